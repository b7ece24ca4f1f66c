using Microsoft.Extensions.Time.Testing;

namespace Xks.Operator.Entities.Tests;

public class ConditionsTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, 250, TimeSpan.Zero);

    [Fact]
    public void Set_NewType_AddsConditionWithTransitionTimeInWholeSeconds()
    {
        var time = new FakeTimeProvider(Start);
        var conditions = new List<V1Alpha1Condition>();

        var changed = Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.False, "Progressing", "waiting for pods", 3, time);

        Assert.True(changed);
        var condition = Assert.Single(conditions);
        Assert.Equal(ConditionTypes.Ready, condition.Type);
        Assert.Equal(ConditionStatus.False, condition.Status);
        Assert.Equal("Progressing", condition.Reason);
        Assert.Equal("waiting for pods", condition.Message);
        Assert.Equal(3, condition.ObservedGeneration);
        Assert.Equal(new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc), condition.LastTransitionTime);
        Assert.Equal(DateTimeKind.Utc, condition.LastTransitionTime.Kind);
    }

    [Fact]
    public void Set_SameStatusNewReason_KeepsTransitionTimeAndUpdatesTheRest()
    {
        var time = new FakeTimeProvider(Start);
        var conditions = new List<V1Alpha1Condition>();
        Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.False, "Progressing", "waiting", 1, time);
        var first = conditions[0].LastTransitionTime;
        time.Advance(TimeSpan.FromMinutes(5));

        var changed = Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.False, "InvalidSpec", "replicas 1 needs allowSingleReplica", 2, time);

        Assert.True(changed);
        var condition = Assert.Single(conditions);
        Assert.Equal(first, condition.LastTransitionTime);
        Assert.Equal("InvalidSpec", condition.Reason);
        Assert.Equal("replicas 1 needs allowSingleReplica", condition.Message);
        Assert.Equal(2, condition.ObservedGeneration);
    }

    [Fact]
    public void Set_StatusChanges_MovesTransitionTime()
    {
        var time = new FakeTimeProvider(Start);
        var conditions = new List<V1Alpha1Condition>();
        Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.False, "Progressing", "", 1, time);
        time.Advance(TimeSpan.FromSeconds(42));

        Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.True, "Available", "", 1, time);

        Assert.Equal(new DateTime(2026, 3, 1, 12, 0, 42, DateTimeKind.Utc), conditions[0].LastTransitionTime);
        Assert.Equal(ConditionStatus.True, conditions[0].Status);
    }

    [Fact]
    public void Set_NothingChanged_ReturnsFalse()
    {
        var time = new FakeTimeProvider(Start);
        var conditions = new List<V1Alpha1Condition>();
        Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.True, "Available", "ok", 4, time);
        var before = conditions[0].LastTransitionTime;
        time.Advance(TimeSpan.FromHours(1));

        var changed = Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.True, "Available", "ok", 4, time);

        Assert.False(changed);
        Assert.Equal(before, conditions[0].LastTransitionTime);
    }

    [Fact]
    public void Set_EmptyMessage_StoredAsNullAndEqualToNull()
    {
        var time = new FakeTimeProvider(Start);
        var conditions = new List<V1Alpha1Condition>();

        Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.True, "Available", "", 1, time);
        var changed = Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.True, "Available", null, 1, time);

        Assert.Null(conditions[0].Message);
        Assert.False(changed);
    }

    [Fact]
    public void Set_OtherTypes_LeftAlone()
    {
        var time = new FakeTimeProvider(Start);
        var conditions = new List<V1Alpha1Condition>();
        Conditions.Set(conditions, ConditionTypes.ProxyAvailable, ConditionStatus.True, "MinimumReplicasAvailable", "", 1, time);
        Conditions.Set(conditions, ConditionTypes.CertificateReady, ConditionStatus.Unknown, "Pending", "", 1, time);

        Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.False, "CertificateNotReady", "", 1, time);

        Assert.Equal([ConditionTypes.ProxyAvailable, ConditionTypes.CertificateReady, ConditionTypes.Ready], conditions.Select(c => c.Type));
        Assert.Equal(ConditionStatus.Unknown, Conditions.Get(conditions, ConditionTypes.CertificateReady)!.Status);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("Yes")]
    [InlineData("")]
    public void Set_InvalidStatus_Throws(string status)
    {
        var conditions = new List<V1Alpha1Condition>();

        Assert.ThrowsAny<ArgumentException>(() => Conditions.Set(conditions, ConditionTypes.Ready, status, "Reason", "", 1, TimeProvider.System));
        Assert.Empty(conditions);
    }

    [Fact]
    public void IsTrue_ByStatus_ReflectsCondition()
    {
        var time = new FakeTimeProvider(Start);
        var conditions = new List<V1Alpha1Condition>();
        Assert.False(Conditions.IsTrue(conditions, ConditionTypes.Ready));
        Assert.False(Conditions.IsTrue(null, ConditionTypes.Ready));

        Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.Unknown, "Reconciling", "", 1, time);
        Assert.False(Conditions.IsTrue(conditions, ConditionTypes.Ready));

        Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.True, "Available", "", 1, time);
        Assert.True(Conditions.IsTrue(conditions, ConditionTypes.Ready));
        Assert.False(Conditions.IsTrue(conditions, ConditionTypes.ProxyAvailable));
    }

    [Fact]
    public void Get_TypeIsCaseSensitive_ReturnsOnlyExactMatch()
    {
        var conditions = new List<V1Alpha1Condition>();
        Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.True, "Available", "", 1, TimeProvider.System);

        Assert.NotNull(Conditions.Get(conditions, "Ready"));
        Assert.Null(Conditions.Get(conditions, "ready"));
        Assert.Null(Conditions.Get(null, "Ready"));
    }

    [Fact]
    public void Remove_ExistingType_RemovesIt()
    {
        var conditions = new List<V1Alpha1Condition>();
        Conditions.Set(conditions, ConditionTypes.Ready, ConditionStatus.True, "Available", "", 1, TimeProvider.System);

        Assert.True(Conditions.Remove(conditions, ConditionTypes.Ready));
        Assert.False(Conditions.Remove(conditions, ConditionTypes.Ready));
        Assert.Empty(conditions);
    }
}
