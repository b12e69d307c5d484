using System.Security.Cryptography;
using System.Text;
using Selene.Engines.Delivery;

namespace Selene.Engines.Tests;

/// <summary>PH1.DELIVERY's pure part: the attempt state machine, the mapping tables, the attempt id and the send's gates.</summary>
public sealed class DeliveryDeciderTests
{
    private static readonly DeliveryContext Ctx = new("acme", "alice", 1_000_000_000_000);

    /// <summary>The legal transitions, written out independently of the product's table: everything else is illegal.</summary>
    private static readonly Dictionary<(DeliveryStatus?, DeliveryAction), DeliveryStatus> Legal = new()
    {
        [(null, DeliveryAction.Send)] = DeliveryStatus.Pending,
        [(null, DeliveryAction.ChannelUnavailable)] = DeliveryStatus.Failed,
        [(DeliveryStatus.Pending, DeliveryAction.Proof)] = DeliveryStatus.Sent,
        [(DeliveryStatus.Pending, DeliveryAction.Fail)] = DeliveryStatus.Failed,
        [(DeliveryStatus.Pending, DeliveryAction.Cancel)] = DeliveryStatus.Canceled,
    };

    public static TheoryData<DeliveryStatus?, DeliveryAction> AllPairs()
    {
        var data = new TheoryData<DeliveryStatus?, DeliveryAction>();
        foreach (var from in new DeliveryStatus?[] { null }.Concat(Enum.GetValues<DeliveryStatus>().Select(s => (DeliveryStatus?)s)))
            foreach (var action in Enum.GetValues<DeliveryAction>()) data.Add(from, action);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void StateMachine_EveryPair_IsLegalExactlyAsTheTableSays(DeliveryStatus? from, DeliveryAction action) =>
        Assert.Equal(Legal.TryGetValue((from, action), out var to) ? to : null, DeliveryDecider.Next(from, action));

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void Deciders_FollowTheStateMachine_ForProofFailAndCancel(DeliveryStatus? from, DeliveryAction action)
    {
        if (action is DeliveryAction.Send or DeliveryAction.ChannelUnavailable) return; // the send's own cases are below
        var attempt = from is { } status ? Attempt(DeliveryChannel.Email) with { Status = status } : null;
        var id = attempt?.DeliveryAttemptId ?? "delivery_0123456789abcdef";
        var decision = action switch
        {
            DeliveryAction.Proof => DeliveryDecider.DecideProof(attempt, new RecordDeliveryProof(id, "SENT", "file", "m1", "file:x#sha256:ab", null), Ctx),
            DeliveryAction.Fail => DeliveryDecider.DecideProof(attempt, new RecordDeliveryProof(id, "FAILED", "file", null, null, "DELIVERY_PROVIDER_REJECTED"), Ctx),
            _ => DeliveryDecider.DecideCancel(attempt, new CancelDelivery(id), Ctx),
        };
        if (Legal.TryGetValue((from, action), out var to))
        {
            var e = Assert.IsType<DeliveryAttemptEvent>(Assert.Single(Assert.IsType<Decision<DeliveryEvent>.Accepted>(decision).Events));
            Assert.Equal((action, to), (e.Action, e.Status));
        }
        else
        {
            var expected = from is null ? "DELIVERY_ATTEMPT_NOT_FOUND" : "DELIVERY_ATTEMPT_STATE_INVALID";
            Assert.Equal(expected, Assert.IsType<Decision<DeliveryEvent>.Rejected>(decision).Reason.Name);
        }
    }

    [Theory]
    [InlineData("SELENE_APP", DeliveryChannel.AppPush)]
    [InlineData("SMS", DeliveryChannel.Sms)]
    [InlineData("WHATSAPP", DeliveryChannel.Whatsapp)]
    [InlineData("WECHAT", DeliveryChannel.Wechat)]
    [InlineData("EMAIL", DeliveryChannel.Email)]
    [InlineData("APP_PUSH", null)]
    [InlineData("sms", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void ChannelMapping_BcastMethodToChannel(string? method, DeliveryChannel? channel) =>
        Assert.Equal(channel, DeliveryMapping.ChannelOfBcastMethod(method));

    [Theory]
    [InlineData(200, ProviderVerdict.Accepted)]
    [InlineData(202, ProviderVerdict.Accepted)]
    [InlineData(204, ProviderVerdict.Accepted)]
    [InlineData(299, ProviderVerdict.Accepted)]
    [InlineData(301, ProviderVerdict.Rejected)]
    [InlineData(400, ProviderVerdict.Rejected)]
    [InlineData(401, ProviderVerdict.Rejected)]
    [InlineData(404, ProviderVerdict.Rejected)]
    [InlineData(408, ProviderVerdict.Retryable)]
    [InlineData(409, ProviderVerdict.Rejected)]
    [InlineData(410, ProviderVerdict.Rejected)]
    [InlineData(425, ProviderVerdict.Retryable)]
    [InlineData(429, ProviderVerdict.Retryable)]
    [InlineData(500, ProviderVerdict.Retryable)]
    [InlineData(502, ProviderVerdict.Retryable)]
    [InlineData(503, ProviderVerdict.Retryable)]
    [InlineData(599, ProviderVerdict.Retryable)]
    [InlineData(100, ProviderVerdict.Rejected)]
    public void StatusMapping_Http(int status, ProviderVerdict verdict) => Assert.Equal(verdict, DeliveryMapping.OfHttpStatus(status));

    [Theory]
    [InlineData(250, ProviderVerdict.Accepted)]
    [InlineData(251, ProviderVerdict.Accepted)]
    [InlineData(421, ProviderVerdict.Retryable)]
    [InlineData(450, ProviderVerdict.Retryable)]
    [InlineData(451, ProviderVerdict.Retryable)]
    [InlineData(452, ProviderVerdict.Retryable)]
    [InlineData(500, ProviderVerdict.Rejected)]
    [InlineData(550, ProviderVerdict.Rejected)]
    [InlineData(553, ProviderVerdict.Rejected)]
    [InlineData(354, ProviderVerdict.Rejected)]
    public void StatusMapping_Smtp(int code, ProviderVerdict verdict) => Assert.Equal(verdict, DeliveryMapping.OfSmtpReply(code));

    [Theory]
    [InlineData(DeliveryStatus.Pending, "QUEUED")]
    [InlineData(DeliveryStatus.Sent, "SENT")]
    [InlineData(DeliveryStatus.Failed, "FAILED")]
    [InlineData(DeliveryStatus.Canceled, "FAILED")]
    public void StatusMapping_NormalizedBuckets(DeliveryStatus status, string bucket) => Assert.Equal(bucket, DeliveryMapping.NormalizedStatus(status));

    [Fact]
    public void AttemptId_IsDeliveryPlus16HexOfTheLengthPrefixedParts_AndEveryPartCounts()
    {
        var id = DeliveryDecider.AttemptId("acme", "b1", "bob", DeliveryChannel.Email, "req-1");
        // Computed here from the definition: SHA-256 over "len:part|" for each part, first 16 hex characters.
        var expected = "delivery_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("4:acme|2:b1|3:bob|5:EMAIL|5:req-1|")))[..16];
        Assert.Equal(expected, id);
        Assert.True(DeliveryDecider.IsAttemptId(id));
        Assert.Equal(id, DeliveryDecider.AttemptId("acme", "b1", "bob", DeliveryChannel.Email, "req-1"));
        string[] others =
        [
            DeliveryDecider.AttemptId("acmf", "b1", "bob", DeliveryChannel.Email, "req-1"),
            DeliveryDecider.AttemptId("acme", "b2", "bob", DeliveryChannel.Email, "req-1"),
            DeliveryDecider.AttemptId("acme", "b1", "bo", DeliveryChannel.Email, "req-1"),
            DeliveryDecider.AttemptId("acme", "b1", "bob", DeliveryChannel.Sms, "req-1"),
            DeliveryDecider.AttemptId("acme", "b1", "bob", DeliveryChannel.Email, "req-2"),
        ];
        Assert.Equal(others.Length + 1, others.Append(id).Distinct().Count());
    }

    [Fact]
    public void Send_WithABinding_IsPendingAndMakesItsOwnSendDue_NoSettlementYet()
    {
        var accepted = Accepted(DeliveryDecider.DecideSend(null, Send("EMAIL"), Setup(("EMAIL", "bob@example.com")), Ctx));
        Assert.Equal("DELIVERY_OK_SEND", accepted.Reason.Name);
        var e = Assert.IsType<DeliveryAttemptEvent>(Assert.Single(accepted.Events));
        Assert.Equal((DeliveryStatus.Pending, "bob@example.com", DeliveryChannel.Email), (e.Status, e.Send!.Address, e.Send.Channel));
        var due = Assert.Single(accepted.Outbox);
        Assert.Equal((DeliveryHandoffs.AttemptDue, e.DeliveryAttemptId, e.DeliveryAttemptId), (due.EventType, due.IdempotencyKey, due.Payload["delivery_attempt_id"]));
        Assert.Equal(DeliveryDecider.AttemptId("acme", "b1", "bob", DeliveryChannel.Email, "req-1"), e.DeliveryAttemptId);
    }

    [Fact]
    public void Send_WithoutABinding_SettlesFailedChannelUnavailable_AndHandsItBackToBcast()
    {
        var accepted = Accepted(DeliveryDecider.DecideSend(null, Send("APP_PUSH"), Setup(("EMAIL", "bob@example.com")), Ctx));
        Assert.Equal("DELIVERY_OK_FAILURE_RECORDED", accepted.Reason.Name);
        var e = Assert.IsType<DeliveryAttemptEvent>(Assert.Single(accepted.Events));
        Assert.Equal((DeliveryAction.ChannelUnavailable, DeliveryStatus.Failed, "DELIVERY_CHANNEL_UNAVAILABLE", (string?)null),
            (e.Action, e.Status, e.ReasonCode, e.Send!.Address));
        var settled = Assert.Single(accepted.Outbox);
        Assert.Equal((DeliveryHandoffs.AttemptSettledBcast, e.DeliveryAttemptId + ":settled"), (settled.EventType, settled.IdempotencyKey));
        Assert.Equal(new Dictionary<string, string>
        {
            ["tenant_id"] = "acme", ["broadcast_id"] = "b1", ["recipient_id"] = "bob", ["delivery_request_ref"] = "req-1",
            ["delivery_attempt_id"] = e.DeliveryAttemptId, ["channel"] = "APP_PUSH", ["delivery_status"] = "FAILED", ["delivery_proof_ref"] = "",
            ["provider_message_ref"] = "", ["reason_code"] = "DELIVERY_CHANNEL_UNAVAILABLE", ["retryable"] = "false",
        }, settled.Payload);
        // Nobody set up at all: the same.
        Assert.Equal("DELIVERY_OK_FAILURE_RECORDED", Accepted(DeliveryDecider.DecideSend(null, Send("EMAIL"), null, Ctx)).Reason.Name);
    }

    [Fact]
    public void Sms_WithoutCompletedSetup_IsRefused_WithOrWithoutABinding_AndWithItIsPending()
    {
        Assert.Equal("DELIVERY_SMS_SETUP_REQUIRED", Rejected(DeliveryDecider.DecideSend(null, Send("SMS"), null, Ctx)));
        Assert.Equal("DELIVERY_SMS_SETUP_REQUIRED", Rejected(DeliveryDecider.DecideSend(null, Send("SMS"), Setup(("SMS", "+15550001")), Ctx)));
        var ready = Setup(("SMS", "+15550001")) with { SmsAppSetupComplete = true };
        Assert.Equal(DeliveryStatus.Pending, ((DeliveryAttemptEvent)Accepted(DeliveryDecider.DecideSend(null, Send("SMS"), ready, Ctx)).Events[0]).Status);
        // Set up, but no SMS number: unavailable, settled FAILED (BCAST falls back).
        var noNumber = Setup(("EMAIL", "bob@example.com")) with { SmsAppSetupComplete = true };
        Assert.Equal(DeliveryStatus.Failed, ((DeliveryAttemptEvent)Accepted(DeliveryDecider.DecideSend(null, Send("SMS"), noNumber, Ctx)).Events[0]).Status);
    }

    [Fact]
    public void Send_Refusals_ContextMissing_Existing_BadInput()
    {
        Assert.Equal("DELIVERY_SIMULATION_CONTEXT_MISSING", Rejected(DeliveryDecider.DecideSend(null, Send("EMAIL") with { SimulationContext = "" }, null, Ctx)));
        Assert.Equal("DELIVERY_SIMULATION_CONTEXT_MISSING", Rejected(DeliveryDecider.DecideSend(null, Send("EMAIL") with { SimulationContext = null }, null, Ctx)));
        Assert.Equal("DELIVERY_ATTEMPT_STATE_INVALID", Rejected(DeliveryDecider.DecideSend(Attempt(DeliveryChannel.Email), Send("EMAIL"), null, Ctx)));
        Assert.Equal("DELIVERY_INPUT_SCHEMA_INVALID", Rejected(DeliveryDecider.DecideSend(null, Send("FAX"), null, Ctx)));
        Assert.Equal("DELIVERY_INPUT_SCHEMA_INVALID", Rejected(DeliveryDecider.DecideSend(null, Send("EMAIL") with { RecipientId = "" }, null, Ctx)));
        Assert.Equal("DELIVERY_INPUT_SCHEMA_INVALID", Rejected(DeliveryDecider.DecideSend(null, Send("EMAIL") with { ContentText = new string('x', 4001) }, null, Ctx)));
    }

    [Fact]
    public void Proof_Sent_And_Failed_HandTheSettlementToBcast_OnlyForBcastSends()
    {
        var attempt = Attempt(DeliveryChannel.Email);
        var sent = Accepted(DeliveryDecider.DecideProof(attempt, new RecordDeliveryProof(attempt.DeliveryAttemptId, "SENT", "smtp:mail", "<m@x>", "smtp:250 ok", null), Ctx));
        Assert.Equal("DELIVERY_OK_PROOF", sent.Reason.Name);
        var payload = Assert.Single(sent.Outbox).Payload;
        Assert.Equal(("SENT", "smtp:250 ok", "<m@x>", "DELIVERY_OK_PROOF", "EMAIL"),
            (payload["delivery_status"], payload["delivery_proof_ref"], payload["provider_message_ref"], payload["reason_code"], payload["channel"]));

        var failed = Accepted(DeliveryDecider.DecideProof(attempt, new RecordDeliveryProof(attempt.DeliveryAttemptId, "FAILED", "smtp:mail", null, null,
            "DELIVERY_PROVIDER_SEND_FAILED"), Ctx));
        Assert.Equal("DELIVERY_OK_FAILURE_RECORDED", failed.Reason.Name);
        payload = Assert.Single(failed.Outbox).Payload;
        Assert.Equal(("FAILED", "", "DELIVERY_PROVIDER_SEND_FAILED"), (payload["delivery_status"], payload["delivery_proof_ref"], payload["reason_code"]));

        var other = attempt with { Send = attempt.Send with { Source = "REM" } };
        Assert.Empty(Accepted(DeliveryDecider.DecideProof(other, new RecordDeliveryProof(attempt.DeliveryAttemptId, "SENT", "file", null, "file:x", null), Ctx)).Outbox);
        // A FAILED outcome names one of the two final reasons; a SENT one carries its proof.
        Assert.Equal("DELIVERY_INPUT_SCHEMA_INVALID", Rejected(DeliveryDecider.DecideProof(attempt,
            new RecordDeliveryProof(attempt.DeliveryAttemptId, "FAILED", "file", null, null, "DELIVERY_OK_SEND"), Ctx)));
        Assert.Equal("DELIVERY_INPUT_SCHEMA_INVALID", Rejected(DeliveryDecider.DecideProof(attempt,
            new RecordDeliveryProof(attempt.DeliveryAttemptId, "SENT", "file", null, null, null), Ctx)));
    }

    [Fact]
    public void Cancel_OfAWeChatSend_IsNotSupported()
    {
        var attempt = Attempt(DeliveryChannel.Wechat);
        Assert.Equal("DELIVERY_CANCEL_NOT_SUPPORTED", Rejected(DeliveryDecider.DecideCancel(attempt, new CancelDelivery(attempt.DeliveryAttemptId), Ctx)));
    }

    [Fact]
    public void ChannelSetup_MergesBindings_RemovesWithEmpty_KeepsUnnamedFlags_AndChecksAddresses()
    {
        var first = (ChannelSetupEvent)Accepted(DeliveryDecider.DecideSetup(null, new SetupChannels("bob",
            new Dictionary<string, string> { ["EMAIL"] = "bob@example.com", ["SMS"] = "+15550001" }, true, null, null, "ONBOARDING"), Ctx)).Events[0];
        var state = DeliveryDecider.Evolve(null, first);
        Assert.Equal((true, false, ChannelSetupState.Complete), (state.SmsAppSetupComplete, state.SmsReadPermissionOk, state.State));
        var second = (ChannelSetupEvent)Accepted(DeliveryDecider.DecideSetup(state, new SetupChannels("bob",
            new Dictionary<string, string> { ["SMS"] = "", ["APP_PUSH"] = "device-7" }, null, true, null, "SETTINGS"), Ctx)).Events[0];
        var after = DeliveryDecider.Evolve(state, second);
        Assert.Equal(new Dictionary<string, string> { ["APP_PUSH"] = "device-7", ["EMAIL"] = "bob@example.com" }, after.Bindings);
        Assert.Equal((true, true, ChannelSetupSource.Settings), (after.SmsAppSetupComplete, after.SmsReadPermissionOk, after.SetupSource));

        Assert.Equal("DELIVERY_INPUT_SCHEMA_INVALID", Rejected(DeliveryDecider.DecideSetup(null, new SetupChannels("bob",
            new Dictionary<string, string> { ["EMAIL"] = "not-an-address" }, null, null, null, "SETTINGS"), Ctx)));
        Assert.Equal("DELIVERY_INPUT_SCHEMA_INVALID", Rejected(DeliveryDecider.DecideSetup(null, new SetupChannels("bob",
            new Dictionary<string, string> { ["SMS"] = "call me" }, null, null, null, "SETTINGS"), Ctx)));
        Assert.Equal("DELIVERY_INPUT_SCHEMA_INVALID", Rejected(DeliveryDecider.DecideSetup(null, new SetupChannels("bob",
            new Dictionary<string, string> { ["FAX"] = "1" }, null, null, null, "SETTINGS"), Ctx)));
        Assert.Equal("DELIVERY_INPUT_SCHEMA_INVALID", Rejected(DeliveryDecider.DecideSetup(null, new SetupChannels("bob", null, null, null, null, "NOW"), Ctx)));
    }

    [Fact]
    public void Evolve_FoldsSendThenProof_IntoTheSettledAttempt()
    {
        var send = (DeliveryAttemptEvent)Accepted(DeliveryDecider.DecideSend(null, Send("EMAIL"), Setup(("EMAIL", "bob@example.com")), Ctx)).Events[0];
        var pending = DeliveryDecider.Evolve(null, send, 7);
        Assert.Equal((DeliveryStatus.Pending, (long?)null, 7L), (pending.Status, pending.SettledAt, pending.SourceEventId));
        var later = Ctx with { Now = Ctx.Now + 5 };
        var proof = (DeliveryAttemptEvent)Accepted(DeliveryDecider.DecideProof(pending,
            new RecordDeliveryProof(pending.DeliveryAttemptId, "SENT", "smtp:mail", "<m@x>", "smtp:250", null), later)).Events[0];
        var sent = DeliveryDecider.Evolve(pending, proof, 9);
        Assert.Equal((DeliveryStatus.Sent, "smtp:mail", "<m@x>", "smtp:250", (long?)later.Now, Ctx.Now, 9L),
            (sent.Status, sent.ProviderRef, sent.ProviderMessageRef, sent.DeliveryProofRef, sent.SettledAt, sent.CreatedAt, sent.SourceEventId));
    }

    private static SendDelivery Send(string channel) =>
        new("b1", "bob", channel, "payload:1", "hello", "SIMPLE", "sim-ctx", "req-1", DeliveryHandoffs.SourceBcast, "req-1");

    private static ChannelSetup Setup(params (string Channel, string Address)[] bindings) =>
        new("bob", bindings.ToDictionary(b => b.Channel, b => b.Address), false, false, false, ChannelSetupSource.Settings, "alice", 1, 1);

    private static DeliveryAttempt Attempt(DeliveryChannel channel)
    {
        var id = DeliveryDecider.AttemptId("acme", "b1", "bob", channel, "req-1");
        return new DeliveryAttempt(id, new DeliverySendFacts("acme", "b1", "bob", channel, "bob@example.com", "payload:1", "hello", "SIMPLE", "sim-ctx", "req-1",
            DeliveryHandoffs.SourceBcast, "req-1"), DeliveryStatus.Pending, "DELIVERY_OK_SEND", null, null, null, "alice", 1, 1, null, 1);
    }

    private static Decision<DeliveryEvent>.Accepted Accepted(Decision<DeliveryEvent> d) =>
        d as Decision<DeliveryEvent>.Accepted ?? throw new Xunit.Sdk.XunitException($"refused: {((Decision<DeliveryEvent>.Rejected)d).Reason.Name} {((Decision<DeliveryEvent>.Rejected)d).Detail}");

    private static string Rejected(Decision<DeliveryEvent> d) => Assert.IsType<Decision<DeliveryEvent>.Rejected>(d).Reason.Name;
}
