using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Selene.Engines.Link;
using Selene.Engines.Position;
using Selene.Postgres;
using Selene.Runtime.Link;
using Selene.Runtime.Platform;
using Selene.Testing;

namespace Selene.Runtime.Tests.Link;

/// <summary>
/// PH1.LINK on real PostgreSQL and a fake clock: generation against a real position with an ACTIVE requirement schema,
/// draft updates, the invite secret (derived, indexed by its hash, resolved across tenants), open from the invitee's
/// device through <see cref="LinkModule.OpenAsync"/>, forward blocks, expiry, recovery, revoke with and without an
/// ACCESS override, the secret nowhere in the database, and rebuild.
/// </summary>
public sealed class LinkModuleTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2030, 5, 6, 7, 8, 9, TimeSpan.Zero);
    private static readonly LinkKey Key = new(Enumerable.Range(1, LinkKey.KeyBytes).Select(i => (byte)(i * 7)).ToArray());
    private readonly FakeTimeProvider _clock = new(T0);
    private SeleneDatabase _db = null!;
    private SimulationExecutor _executor = null!;
    private long _correlation = 7000;
    private int _keys;

    private const string AlwaysSpec = """
        {"field_key":"licence_number","field_type":"STRING","required_rule":"ALWAYS","sensitivity":"PRIVATE","exposure_rule":"TEXT_ONLY",
         "evidence_mode":"DOC_REQUIRED","prompt_short":"Licence number?","prompt_long":"Please type the number on your forklift licence."}
        """;
    private const string MatchingSpec = """
        {"field_key":"hazmat_cert","field_type":"STRING","required_rule":"CONDITIONAL","required_predicate_ref":"jurisdiction=DE-BY",
         "sensitivity":"SAFE","exposure_rule":"SPEAK","evidence_mode":"ATTESTATION","prompt_short":"Hazmat?","prompt_long":"Do you hold a hazmat certificate?"}
        """;
    private const string OtherSpec = """
        {"field_key":"french_permit","field_type":"STRING","required_rule":"CONDITIONAL","required_predicate_ref":"jurisdiction=FR",
         "sensitivity":"SAFE","exposure_rule":"SPEAK","evidence_mode":"ATTESTATION","prompt_short":"Permit?","prompt_long":"Your French permit number?"}
        """;

    public async Task InitializeAsync()
    {
        _db = await TestCluster.CreateDatabaseAsync();
        _executor = Executor(HandoffServices.None.With(Key));
        await new Access.TenantBootstrap(_db, _clock).CreateAsync(new TenantId("acme"), new UserId("alice"));
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private SimulationExecutor Executor(HandoffServices services) =>
        new(new TurnExecutor(_db, SimulationRegistry.Default, SeleneCatalog.Default, _clock, services: services));

    private async Task<ExecutionResult> RunAsync(string simulation, string body, string user = "alice", string? key = null, SimulationExecutor? executor = null,
        string tenant = "acme")
    {
        using var doc = JsonDocument.Parse(body);
        Assert.True(CorrelationId.TryParse((++_correlation).ToString(System.Globalization.CultureInfo.InvariantCulture), out var correlation));
        return await (executor ?? _executor).ExecuteAsync(new ExecutionRequest(new TenantId(tenant), new UserId(user), simulation, key ?? $"k-{++_keys}",
            doc.RootElement.Clone(), correlation, new TurnId(1)));
    }

    private async Task<JsonNode> OkAsync(string simulation, string body, string user = "alice", string? key = null, string tenant = "acme")
    {
        var result = await RunAsync(simulation, body, user, key, tenant: tenant);
        Assert.True(result.Succeeded, $"{simulation}: {result.Reason.Name} {result.Detail}");
        return JsonNode.Parse(result.Body!)!;
    }

    private async Task<JsonObject> ReadAsync(string route, Dictionary<string, string> values, HandoffServices? services = null, string tenant = "acme")
    {
        var read = await Read(route, values, services, tenant);
        var ok = Assert.IsType<ReadResult.Ok>(read);
        return ok.Body;
    }

    private Task<ReadResult> Read(string route, Dictionary<string, string> values, HandoffServices? services = null, string tenant = "acme") =>
        LinkModule.Module.Routes.Single(r => r.Name == route).Query(new ReadRequest(_db, new TenantId(tenant), values, new Dictionary<string, string>(),
            UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()), services ?? HandoffServices.None.With(Key)), default);

    /// <summary>An ACTIVE position of an ACTIVE company with an ACTIVE schema v1 for jurisdiction DE-BY: licence_number always, hazmat_cert for DE-BY, french_permit for FR.</summary>
    private async Task<string> PositionWithActiveSchemaAsync()
    {
        await OkAsync(PositionSimulations.CompanyUpsert, """{"company_id":"acme-logistics","legal_name":"Acme Logistics GmbH","jurisdiction":"DE-BY","lifecycle_state":"ACTIVE"}""");
        var created = await OkAsync(PositionSimulations.CreateDraft, """
            {"company_id":"acme-logistics","position_title":"Forklift Driver","department":"Logistics","jurisdiction":"DE-BY","schedule_type":"SHIFT",
             "permission_profile_ref":"ap.driver","compensation_band_ref":"band.b2"}
            """);
        var position = created["position"]!["position_id"]!.GetValue<string>();
        await OkAsync(PositionSimulations.Activate, $$"""{"position_id":"{{position}}"}""");
        await OkAsync(PositionSimulations.SchemaCreateDraft, $$"""
            {"company_id":"acme-logistics","position_id":"{{position}}","schema_version_id":"v1","field_specs":[{{AlwaysSpec}},{{MatchingSpec}},{{OtherSpec}}],
             "selectors":{"jurisdiction":"DE-BY"} }
            """);
        await OkAsync(PositionSimulations.SchemaActivate, $$"""{"company_id":"acme-logistics","position_id":"{{position}}","schema_version_id":"v1","apply_scope":"NEW_HIRES_ONLY"}""");
        return position;
    }

    /// <summary>A FRIEND invite (no schema): its token id.</summary>
    private async Task<string> FriendInviteAsync(string user = "alice", string tenant = "acme")
    {
        var generated = await OkAsync(LinkSimulations.GenerateDraft, """{"invitee_type":"FRIEND","prefilled_fields":{"first_name":"Dana"} }""", user, tenant: tenant);
        return generated["token"]!["token_id"]!.GetValue<string>();
    }

    private async Task<string> SecretAsync(string tokenId)
    {
        var path = (await ReadAsync("GetInviteLink", new() { ["token_id"] = tokenId }))["link_path"]!.GetValue<string>();
        Assert.StartsWith(LinkModule.InvitePathPrefix, path, StringComparison.Ordinal);
        return path[LinkModule.InvitePathPrefix.Length..];
    }

    private Task<ExecutionResult> OpenAsync(string secret, string device, string nonce = "nonce-1") =>
        LinkModule.OpenAsync(_executor, _db, secret, new InviteOpen(device, AppPlatform.Web, "browser-" + device, nonce,
            UnixNanos.FromDateTimeOffset(_clock.GetUtcNow()).Value), default);

    private async Task<JsonObject> InviteAsync(string tokenId) => (JsonObject)(await ReadAsync("GetInvite", new() { ["token_id"] = tokenId }))["invite"]!;

    private static string[] Strings(JsonNode? array) => array!.AsArray().Select(n => n!.GetValue<string>()).ToArray();

    [Fact]
    public async Task Generate_ForAnEmployeeOfAPositionWithAnActiveSchema_PinsWhatItRequires_AndUpdatesReachDraftReady()
    {
        var position = await PositionWithActiveSchemaAsync();
        var generated = await OkAsync(LinkSimulations.GenerateDraft, $$"""
            {"invitee_type":"EMPLOYEE","schema_version_id":"v1","prefilled_fields":{"position_id":"{{position}}","start_date":"2030-06-01"} }
            """);
        var draft = generated["draft"]!;
        Assert.Equal("position:" + position, draft["schema_ref"]!.GetValue<string>());
        // Required under the schema's selectors (DE-BY): the ALWAYS field and the matching CONDITIONAL one, never the FR one.
        Assert.Equal(["hazmat_cert", "licence_number"], Strings(draft["required_fields"]));
        Assert.Equal(["hazmat_cert", "licence_number"], Strings(draft["missing_required_fields"]));
        Assert.Equal("DRAFT_CREATED", draft["status"]!.GetValue<string>());
        // The invite is pinned to the tenant and the position's company.
        Assert.Equal(("acme", "acme-logistics"), (draft["fields"]!["tenant_id"]!.GetValue<string>(), draft["fields"]!["company_id"]!.GetValue<string>()));
        var draftId = draft["draft_id"]!.GetValue<string>();
        var tokenId = generated["token"]!["token_id"]!.GetValue<string>();
        Assert.Equal(LinkIds.TokenId("acme", draftId, 0), tokenId);
        Assert.DoesNotContain("invite/", generated.ToJsonString(), StringComparison.Ordinal);

        var first = await OkAsync(LinkSimulations.DraftUpdateCommit, $$"""{"draft_id":"{{draftId}}","fields":{"licence_number":"FL-123"} }""");
        Assert.Equal("DRAFT_CREATED", first["draft"]!["status"]!.GetValue<string>());
        Assert.Equal(["hazmat_cert"], Strings(first["draft"]!["missing_required_fields"]));
        var ready = await OkAsync(LinkSimulations.DraftUpdateCommit, $$"""{"draft_id":"{{draftId}}","fields":{"hazmat_cert":"HZ-9"} }""");
        Assert.Equal("DRAFT_READY", ready["draft"]!["status"]!.GetValue<string>());
        Assert.Empty(Strings(ready["draft"]!["missing_required_fields"]));

        // A pinned field cannot move; a schema version that is not the ACTIVE one is refused.
        var moved = await RunAsync(LinkSimulations.DraftUpdateCommit, $$"""{"draft_id":"{{draftId}}","fields":{"company_id":"elsewhere"} }""");
        Assert.Equal(LinkReasons.LinkRefuseInvalid, moved.Reason);
        var stale = await RunAsync(LinkSimulations.GenerateDraft, $$"""{"invitee_type":"EMPLOYEE","schema_version_id":"v0","prefilled_fields":{"position_id":"{{position}}"} }""");
        Assert.Equal(LinkReasons.LinkRefuseInvalid, stale.Reason);
        var unknown = await RunAsync(LinkSimulations.GenerateDraft, """{"invitee_type":"EMPLOYEE","schema_version_id":"v1","prefilled_fields":{"position_id":"pos_00000000000000ff"} }""");
        Assert.Equal(LinkReasons.LinkRefuseNotFound, unknown.Reason);

        // The administrators' reads: the token with its draft, and the draft with its active link.
        var read = await ReadAsync("GetInvite", new() { ["token_id"] = tokenId });
        Assert.Equal(("DRAFT_CREATED", false, 0), (read["invite"]!["status"]!.GetValue<string>(), read["invite"]!["past_expiry"]!.GetValue<bool>(),
            read["invite"]!["forward_block_count"]!.GetValue<int>()));
        Assert.Equal("DRAFT_READY", read["draft"]!["status"]!.GetValue<string>());
        var byDraft = await ReadAsync("GetInviteDraft", new() { ["draft_id"] = draftId });
        Assert.Equal(tokenId, byDraft["active_invite"]!["token_id"]!.GetValue<string>());
        Assert.IsType<ReadResult.Refused>(await Read("GetInviteDraft", new() { ["draft_id"] = "draft_00000000000000aa" }));
    }

    [Fact]
    public async Task Generate_WithoutALinkKey_IsRefusedAndWritesNothing()
    {
        var result = await RunAsync(LinkSimulations.GenerateDraft, """{"invitee_type":"FRIEND"}""", executor: Executor(HandoffServices.None));
        Assert.Equal(LinkReasons.LinkSecretKeyUnavailable, result.Reason);
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        Assert.Empty(await LinkModule.Tokens.ListAsync(tx, null, null, 10, default));
        Assert.Empty(await LinkModule.Drafts.ListAsync(tx, null, null, 10, default));
        var link = await Read("GetInviteLink", new() { ["token_id"] = "link_00000000000000aa" }, HandoffServices.None);
        Assert.Equal(LinkReasons.LinkSecretKeyUnavailable, Assert.IsType<ReadResult.Refused>(link).Reason);
    }

    [Fact]
    public async Task Open_BindsTheFirstDevice_ASecondDeviceIsBlocked_AndTheFirstGoesOn()
    {
        var tokenId = await FriendInviteAsync();
        var secret = await SecretAsync(tokenId);
        Assert.Equal(LinkKey.SecretLength, secret.Length);
        Assert.Equal((new TenantId("acme"), tokenId), await LinkModule.ResolveAsync(_db, secret, default));

        var opened = await OpenAsync(secret, "phone-a");
        Assert.Equal(LinkReasons.LinkOkOpenActivate, opened.Reason);
        var body = JsonNode.Parse(opened.Body!)!;
        Assert.Equal("ACTIVATED", body["activation_status"]!.GetValue<string>());
        var bound = LinkIds.DeviceHash("acme", tokenId, "phone-a");
        Assert.Equal(bound, body["bound_device_fingerprint_hash"]!.GetValue<string>());
        // The same open again is the same request: its first answer, nothing written.
        var retry = await OpenAsync(secret, "phone-a");
        Assert.Equal(ExecutionOutcome.Replayed, retry.Outcome);
        Assert.Equal(opened.Body, retry.Body);

        var forwarded = await OpenAsync(secret, "laptop-b");
        Assert.Equal(LinkReasons.LinkOkForwardBlockCommit, forwarded.Reason);
        var blocked = JsonNode.Parse(forwarded.Body!)!;
        Assert.Equal("BLOCKED", blocked["activation_status"]!.GetValue<string>());
        // The forwarded device learns nothing of the bound one's context.
        Assert.Null(blocked["bound_device_fingerprint_hash"]);
        Assert.Null(blocked["deep_link_nonce"]);

        var again = await OpenAsync(secret, "phone-a", "nonce-2");
        Assert.Equal(("ACTIVATED", LinkReasons.LinkOkOpenActivate), (JsonNode.Parse(again.Body!)!["activation_status"]!.GetValue<string>(), again.Reason));
        var invite = await InviteAsync(tokenId);
        Assert.Equal(("ACTIVATED", bound, 1), (invite["status"]!.GetValue<string>(), invite["bound_device_fingerprint_hash"]!.GetValue<string>(),
            invite["forward_block_count"]!.GetValue<int>()));
        Assert.Equal(LinkIds.DeviceHash("acme", tokenId, "laptop-b"), invite["last_blocked_fingerprint_hash"]!.GetValue<string>());

        // The open ran as the inviter, through the one execution path: the journal has its turn and transition.
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        await using var cmd = tx.Command("SELECT count(*) FROM selene.link_token_ledger WHERE stream_id = $1 AND actor_user_id = 'alice'");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = tokenId });
        Assert.Equal(3L, (long)(await cmd.ExecuteScalarAsync())!); // ISSUE, OPEN_ACTIVATE, FORWARD_BLOCK

        // A secret nobody issued, or that is not one, opens nothing.
        var unknown = await LinkModule.OpenAsync(_executor, _db, new string('A', LinkKey.SecretLength), new InviteOpen("x", AppPlatform.Web, "i", "n", 1), default);
        Assert.Equal(LinkReasons.LinkRefuseNotFound, unknown.Reason);
        Assert.Null(await LinkModule.ResolveAsync(_db, "not a secret", default));
    }

    [Fact]
    public async Task Resolve_FindsEachTenantsOwnToken_AndAnotherTenantCannotReadTheLink()
    {
        await new Access.TenantBootstrap(_db, _clock).CreateAsync(new TenantId("globex"), new UserId("gina"));
        var acme = await FriendInviteAsync();
        var globex = await FriendInviteAsync("gina", "globex");
        Assert.Equal((new TenantId("globex"), globex), await LinkModule.ResolveAsync(_db, Key.SecretOf("globex", globex), default));
        Assert.Equal((new TenantId("acme"), acme), await LinkModule.ResolveAsync(_db, Key.SecretOf("acme", acme), default));
        // The secret is bound to its tenant: the same token id under another tenant's name is no secret at all.
        Assert.Null(await LinkModule.ResolveAsync(_db, Key.SecretOf("globex", acme), default));
        Assert.Equal(LinkReasons.LinkRefuseNotFound, Assert.IsType<ReadResult.Refused>(await Read("GetInviteLink", new() { ["token_id"] = acme }, tenant: "globex")).Reason);
    }

    [Fact]
    public async Task Expiry_IsEvaluatedOnOpen_ARecoveredLinkOpens_AndTheOldOneStaysExpired()
    {
        var tokenId = await FriendInviteAsync();
        var secret = await SecretAsync(tokenId);
        var early = await RunAsync(LinkSimulations.ExpiredRecoveryCommit, $$"""{"expired_token_id":"{{tokenId}}"}""");
        Assert.Equal(LinkReasons.LinkRefuseStateInvalid, early.Reason);

        _clock.Advance(TimeSpan.FromTicks(LinkDecider.TokenTtlNs / 100) + TimeSpan.FromSeconds(1));
        var expired = await OpenAsync(secret, "phone-a");
        Assert.Equal(LinkReasons.LinkTokenExpired, expired.Reason);
        Assert.Equal(LinkReasons.LinkTokenExpired, Assert.IsType<ReadResult.Refused>(await Read("GetInviteLink", new() { ["token_id"] = tokenId })).Reason);
        Assert.True((await InviteAsync(tokenId))["past_expiry"]!.GetValue<bool>());

        var recovered = await OkAsync(LinkSimulations.ExpiredRecoveryCommit, $$"""{"expired_token_id":"{{tokenId}}"}""");
        var newToken = recovered["new_token_id"]!.GetValue<string>();
        Assert.Equal(LinkIds.TokenId("acme", recovered["draft_id"]!.GetValue<string>(), 1), newToken);
        Assert.DoesNotContain("invite/", recovered.ToJsonString(), StringComparison.Ordinal);
        var old = await InviteAsync(tokenId);
        Assert.Equal(("EXPIRED", newToken), (old["status"]!.GetValue<string>(), old["recovered_by_token_id"]!.GetValue<string>()));

        var newSecret = await SecretAsync(newToken);
        Assert.NotEqual(secret, newSecret);
        Assert.Equal(LinkReasons.LinkOkOpenActivate, (await OpenAsync(newSecret, "phone-a")).Reason);
        Assert.Equal(LinkReasons.LinkTokenExpired, (await OpenAsync(secret, "phone-a", "nonce-3")).Reason);
        var twice = await RunAsync(LinkSimulations.ExpiredRecoveryCommit, $$"""{"expired_token_id":"{{tokenId}}"}""");
        Assert.Equal(LinkReasons.LinkRefuseStateInvalid, twice.Reason);
    }

    [Fact]
    public async Task Revoke_AnUnopenedLinkNeedsNoOverride_AndARevokedLinkRefusesToOpen()
    {
        var tokenId = await FriendInviteAsync();
        var secret = await SecretAsync(tokenId);
        var revoked = await OkAsync(LinkSimulations.RevokeRevoke, $$"""{"token_id":"{{tokenId}}","reason":"sent to the wrong person"}""");
        Assert.Equal("REVOKED", revoked["link"]!["status"]!.GetValue<string>());
        Assert.Equal(LinkReasons.LinkTokenRevoked, (await OpenAsync(secret, "phone-a")).Reason);
        Assert.Equal(LinkReasons.LinkTokenRevoked, Assert.IsType<ReadResult.Refused>(await Read("GetInviteLink", new() { ["token_id"] = tokenId })).Reason);
        var draft = await ReadAsync("GetInvite", new() { ["token_id"] = tokenId });
        Assert.Equal("REVOKED", draft["draft"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Revoke_AnOpenedLink_NeedsAnAccessOverrideInForceForTheActor()
    {
        // bob may invite and open; alice (full authority) grants overrides.
        await OkAsync("ACCESS_INSTANCE_UPSERT_COMMIT", """{"target_user_id":"bob","role_template_id":"recruiter","access_mode":"W","allow":["LINK_INVITE","LINK_OPEN_ACTIVATE"]}""");
        var tokenId = await FriendInviteAsync("bob");
        Assert.Equal(LinkReasons.LinkOkOpenActivate, (await OpenAsync(await SecretAsync(tokenId), "phone-a")).Reason);

        var bare = await RunAsync(LinkSimulations.RevokeRevoke, $$"""{"token_id":"{{tokenId}}","reason":"withdrawn"}""", "bob");
        Assert.Equal(LinkReasons.LinkApOverrideRequired, bare.Reason);
        var unknown = await RunAsync(LinkSimulations.RevokeRevoke, $$"""{"token_id":"{{tokenId}}","reason":"withdrawn","ap_override_ref":"ovr_00000000000000aa"}""", "bob");
        Assert.Equal(LinkReasons.LinkApOverrideRequired, unknown.Reason);

        // An override for another capability, or for another user, is not one for this revoke.
        var other = await OkAsync("ACCESS_OVERRIDE_TEMP_GRANT_COMMIT",
            """{"target_user_id":"bob","override_scope":"CAPREQ_MANAGE","grant_mode":"W","reason":"audit","duration_ms":3600000}""");
        var otherId = other["override"]!["override_id"]!.GetValue<string>();
        Assert.Equal(LinkReasons.LinkApOverrideRequired,
            (await RunAsync(LinkSimulations.RevokeRevoke, $$"""{"token_id":"{{tokenId}}","reason":"withdrawn","ap_override_ref":"{{otherId}}"}""", "bob")).Reason);

        var granted = await OkAsync("ACCESS_OVERRIDE_TEMP_GRANT_COMMIT",
            """{"target_user_id":"bob","override_scope":"LINK_INVITE","grant_mode":"W","reason":"revoke an opened invite","duration_ms":3600000}""");
        var overrideId = granted["override"]!["override_id"]!.GetValue<string>();
        Assert.Equal(LinkReasons.LinkApOverrideRequired,
            (await RunAsync(LinkSimulations.RevokeRevoke, $$"""{"token_id":"{{tokenId}}","reason":"withdrawn","ap_override_ref":"{{overrideId}}"}""", "alice")).Reason);

        // Inside its window, for bob and LINK_INVITE, it is in force.
        var body = $$"""{"token_id":"{{tokenId}}","reason":"withdrawn","ap_override_ref":"{{overrideId}}"}""";
        var ok = await RunAsync(LinkSimulations.RevokeRevoke, body, "bob");
        Assert.True(ok.Succeeded, $"{ok.Reason.Name} {ok.Detail}");
        var invite = await InviteAsync(tokenId);
        Assert.Equal(("REVOKED", overrideId), (invite["status"]!.GetValue<string>(), invite["ap_override_ref"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Revoke_WithAnOverrideThatHasExpired_IsRefused()
    {
        await OkAsync("ACCESS_INSTANCE_UPSERT_COMMIT", """{"target_user_id":"bob","role_template_id":"recruiter","access_mode":"W","allow":["LINK_INVITE","LINK_OPEN_ACTIVATE"]}""");
        var tokenId = await FriendInviteAsync("bob");
        Assert.Equal(LinkReasons.LinkOkOpenActivate, (await OpenAsync(await SecretAsync(tokenId), "phone-a")).Reason);
        var granted = await OkAsync("ACCESS_OVERRIDE_TEMP_GRANT_COMMIT",
            """{"target_user_id":"bob","override_scope":"LINK_INVITE","grant_mode":"W","reason":"revoke an opened invite","duration_ms":60000}""");
        var overrideId = granted["override"]!["override_id"]!.GetValue<string>();
        _clock.Advance(TimeSpan.FromMinutes(2));
        var late = await RunAsync(LinkSimulations.RevokeRevoke, $$"""{"token_id":"{{tokenId}}","reason":"withdrawn","ap_override_ref":"{{overrideId}}"}""", "bob");
        Assert.Equal(LinkReasons.LinkApOverrideRequired, late.Reason);
        Assert.Equal("ACTIVATED", (await InviteAsync(tokenId))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheSecret_AppearsInNoTableAndNoJournalEntry_AfterGenerateOpenAndRecovery()
    {
        var tokenId = await FriendInviteAsync();
        var secret = await SecretAsync(tokenId);
        Assert.Equal(LinkReasons.LinkOkOpenActivate, (await OpenAsync(secret, "phone-a")).Reason);
        _clock.Advance(TimeSpan.FromDays(8));
        var recovered = await OkAsync(LinkSimulations.ExpiredRecoveryCommit, $$"""{"expired_token_id":"{{tokenId}}"}""");
        var newSecret = await SecretAsync(recovered["new_token_id"]!.GetValue<string>());
        Assert.Equal(LinkReasons.LinkOkOpenActivate, (await OpenAsync(newSecret, "phone-a", "nonce-9")).Reason);

        // Every table of the schema, every row, as text (the index holds the secrets' hashes, which is what it is for).
        var (tables, rows) = await DatabaseText.ReadAsync(_db, "acme");
        Assert.Contains("journal", tables);
        Assert.Contains("link_token_ledger", tables);
        Assert.Contains("link_token_index", tables);
        Assert.All(rows, text =>
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(newSecret, text, StringComparison.Ordinal);
        });
        Assert.True(rows.Count > 30, $"only {rows.Count} rows were looked at");
        await using var tx = await TenantTransaction.BeginAsync(_db.Owner, "acme");
        await using var index = tx.Command("SELECT count(*) FROM selene.link_token_index WHERE token_hash IN ($1, $2)");
        index.Parameters.Add(new Npgsql.NpgsqlParameter { Value = LinkKey.HashOf(secret) });
        index.Parameters.Add(new Npgsql.NpgsqlParameter { Value = LinkKey.HashOf(newSecret) });
        Assert.Equal(2L, (long)(await index.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task TheIndex_IsAppendOnly_AndHiddenFromOtherTenants()
    {
        var tokenId = await FriendInviteAsync();
        await using var tx = await TenantTransaction.BeginAsync(_db.App, "acme");
        await using (var update = tx.Command("UPDATE selene.link_token_index SET token_id = token_id"))
        {
            var ex = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => update.ExecuteNonQueryAsync());
            Assert.Equal("42501", ex.SqlState);
        }
        await using var other = await TenantTransaction.BeginAsync(_db.App, "globex");
        await using var count = other.Command("SELECT count(*) FROM selene.link_token_index");
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
        Assert.NotNull(tokenId);
    }

    [Fact]
    public async Task RoleProposalAndConflictEscalation_AreRecordedOnce()
    {
        var proposal = await OkAsync(LinkSimulations.RoleProposeDraft, """{"requested_role_name":"night dispatcher","proposal_text":"We need someone for nights."}""");
        Assert.Equal("PENDING_AP_APPROVAL", proposal["role_proposal"]!["status"]!.GetValue<string>());
        var again = await OkAsync(LinkSimulations.RoleProposeDraft, """{"requested_role_name":"night dispatcher","proposal_text":"We need someone for nights."}""");
        Assert.Equal(proposal["role_proposal"]!["role_proposal_id"]!.GetValue<string>(), again["role_proposal"]!["role_proposal_id"]!.GetValue<string>());
        var escalation = await OkAsync(LinkSimulations.DualRoleConflictEscalateDraft, """{"invitee_identity_hint":"dana@example.com","conflict_reason":"already a supplier contact"}""");
        Assert.Equal("ESCALATED", escalation["escalation"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Rebuild_OfEveryLinkStore_IsIdentical()
    {
        var position = await PositionWithActiveSchemaAsync();
        var employee = await OkAsync(LinkSimulations.GenerateDraft, $$"""{"invitee_type":"EMPLOYEE","schema_version_id":"v1","prefilled_fields":{"position_id":"{{position}}"} }""");
        await OkAsync(LinkSimulations.DraftUpdateCommit, $$"""{"draft_id":"{{employee["draft"]!["draft_id"]}}","fields":{"licence_number":"FL-1"} }""");
        var tokenId = await FriendInviteAsync();
        var secret = await SecretAsync(tokenId);
        await OpenAsync(secret, "phone-a");
        await OpenAsync(secret, "laptop-b");
        await OkAsync(LinkSimulations.RoleProposeDraft, """{"requested_role_name":"night dispatcher","proposal_text":"nights"}""");
        await OkAsync(LinkSimulations.DualRoleConflictEscalateDraft, """{"invitee_identity_hint":"dana","conflict_reason":"supplier"}""");
        _clock.Advance(TimeSpan.FromDays(8));
        await OkAsync(LinkSimulations.ExpiredRecoveryCommit, $$"""{"expired_token_id":"{{employee["token"]!["token_id"]}}"}""");

        var reports = await new Maintenance(_db, _clock).RebuildAsync("link", "acme", apply: false);
        Assert.Equal(["link_draft", "link_escalation", "link_role_proposal", "link_token"], reports.Select(r => r.Store).Order(StringComparer.Ordinal));
        Assert.All(reports, r => Assert.True(r.Identical, string.Join("; ", r.Differences)));
        var tokens = reports.Single(r => r.Store == "link_token");
        Assert.Equal((6, 3), (tokens.LedgerEvents, tokens.Rows)); // ISSUE ×3, OPEN, FORWARD_BLOCK, EXPIRED_RECOVERY
    }
}
