namespace Xks.Operator.Controllers;

/// <summary>A condition decided before it is written: its status, reason and message.</summary>
public readonly record struct ConditionVerdict(string Status, string Reason, string Message);
