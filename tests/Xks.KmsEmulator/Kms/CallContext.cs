using Xks.KmsEmulator.Auth;

namespace Xks.KmsEmulator.Kms;

/// <summary>One incoming call: who signed it, its request id (also x-amzn-RequestId), and when it arrived.</summary>
internal sealed record CallContext(Caller Caller, string RequestId, DateTimeOffset Now);
