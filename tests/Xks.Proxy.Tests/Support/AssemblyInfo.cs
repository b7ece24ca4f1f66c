using System.Runtime.Versioning;

// The suite runs on Linux (SoftHSM2, curl, botocore, Unix file modes).
[assembly: SupportedOSPlatform("linux")]
