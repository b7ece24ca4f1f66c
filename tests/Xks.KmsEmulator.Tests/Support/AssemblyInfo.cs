using System.Runtime.Versioning;

// The suite runs on Linux (the proxy as a child process, SIGTERM, python3-botocore).
[assembly: SupportedOSPlatform("linux")]
