namespace Xks.Operator.Backup;

/// <summary>A backup or restore that cannot go on, with a message for the person running it (never Secret data).</summary>
public sealed class BackupException(string message) : Exception(message);
