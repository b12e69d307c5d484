using Selene.Engines.Position;

namespace Selene.Engines.Tests;

public sealed class PositionDeciderTests
{
    private const string Tenant = "acme";
    private static readonly CompanyView Company = new("acme-gmbh", CompanyLifecycle.Active);

    private static PositionContext Ctx(CompanyView? company = null, string key = "k1") =>
        new(Tenant, "admin", new UnixNanos(1000), key, company ?? Company);

    private static CreatePosition Create() => new("acme-gmbh", "Forklift Driver", "Logistics", "DE-BY", ScheduleType.Shift, "ap.driver", "band.b2");

    private static PositionState Position(PositionLifecycle lifecycle) =>
        Fold(null, Accepted(PositionDecider.Decide(null, PositionSchemas.Empty, Create(), Ctx()))) with { Lifecycle = lifecycle };

    private static FieldSpec Spec(string key = "licence_number", RequiredRule rule = RequiredRule.Always, string? predicate = null) =>
        new(key, FieldType.String, rule, Sensitivity.Private, ExposureRule.TextOnly, EvidenceMode.DocRequired,
            "Licence number?", "Please type the number printed on your forklift licence.", predicate);

    private static Decision<PositionEvent>.Accepted Accepted(Decision<PositionEvent> d) =>
        Assert.IsType<Decision<PositionEvent>.Accepted>(d);

    private static void Rejected(Decision<PositionEvent> d, ReasonCode reason) =>
        Assert.Equal(reason, Assert.IsType<Decision<PositionEvent>.Rejected>(d).Reason);

    private static PositionState Fold(PositionState? s, Decision<PositionEvent>.Accepted a) => a.Events.Aggregate(s, PositionDecider.Evolve)!;

    [Fact]
    public void Create_WithActiveCompany_MakesADraftWithADeterministicId()
    {
        var a = Accepted(PositionDecider.Decide(null, PositionSchemas.Empty, Create(), Ctx()));
        var state = Fold(null, a);
        Assert.Equal(PositionLifecycle.Draft, state.Lifecycle);
        Assert.Equal(PositionDecider.PositionId(Tenant, "acme-gmbh", "Forklift Driver", "Logistics", "DE-BY"), state.PositionId);
        Assert.StartsWith("pos_", state.PositionId, StringComparison.Ordinal);
        Assert.NotEqual(state.PositionId, PositionDecider.PositionId("globex", "acme-gmbh", "Forklift Driver", "Logistics", "DE-BY"));
        Assert.Equal(PositionReasons.PositionCreated, a.Reason);
    }

    [Fact]
    public void Create_Duplicate_IsRefused() =>
        Rejected(PositionDecider.Decide(Position(PositionLifecycle.Draft), PositionSchemas.Empty, Create(), Ctx()), PositionReasons.PositionDuplicate);

    [Theory]
    [InlineData(null)]
    [InlineData(CompanyLifecycle.Draft)]
    [InlineData(CompanyLifecycle.Suspended)]
    public void Create_CompanyMissingOrNotActive_IsRefused(CompanyLifecycle? lifecycle)
    {
        var ctx = lifecycle is null ? Ctx() with { Company = null } : Ctx(Company with { Lifecycle = lifecycle.Value });
        Rejected(PositionDecider.Decide(null, PositionSchemas.Empty, Create(), ctx), PositionReasons.PositionAuthCompanyInvalid);
    }

    public static TheoryData<PositionLifecycle, PositionLifecycle?, bool> LifecycleMoves => new()
    {
        // from, requested (null = activate), legal
        { PositionLifecycle.Draft, null, true },
        { PositionLifecycle.Suspended, null, true },
        { PositionLifecycle.Active, null, false },
        { PositionLifecycle.Retired, null, false },
        { PositionLifecycle.Active, PositionLifecycle.Suspended, true },
        { PositionLifecycle.Active, PositionLifecycle.Retired, true },
        { PositionLifecycle.Suspended, PositionLifecycle.Retired, true },
        { PositionLifecycle.Suspended, PositionLifecycle.Suspended, false },
        { PositionLifecycle.Draft, PositionLifecycle.Suspended, false },
        { PositionLifecycle.Draft, PositionLifecycle.Retired, false },
        { PositionLifecycle.Retired, PositionLifecycle.Suspended, false },
        { PositionLifecycle.Retired, PositionLifecycle.Retired, false },
    };

    [Theory]
    [MemberData(nameof(LifecycleMoves))]
    public void Lifecycle_FollowsTheReferenceGuards(PositionLifecycle from, PositionLifecycle? requested, bool legal)
    {
        var position = Position(from);
        PositionCommand command = requested is null ? new ActivatePosition(position.PositionId) : new RetireOrSuspendPosition(position.PositionId, requested.Value);
        var decision = PositionDecider.Decide(position, PositionSchemas.Empty, command, Ctx());
        if (!legal)
        {
            Rejected(decision, PositionReasons.PositionTransitionInvalid);
            return;
        }
        var next = Fold(position, Accepted(decision));
        Assert.Equal(requested ?? PositionLifecycle.Active, next.Lifecycle);
    }

    [Fact]
    public void RetireOrSuspend_ToActive_IsInvalidInput() =>
        Rejected(PositionDecider.Decide(Position(PositionLifecycle.Active), PositionSchemas.Empty,
            new RetireOrSuspendPosition("pos_x", PositionLifecycle.Active), Ctx()), ReasonCodes.InputFieldInvalid);

    [Fact]
    public void Transitions_OnAMissingPosition_AreNotFound()
    {
        Rejected(PositionDecider.Decide(null, PositionSchemas.Empty, new ActivatePosition("pos_x"), Ctx()), PositionReasons.PositionNotFound);
        Rejected(PositionDecider.Decide(null, PositionSchemas.Empty, new CreateSchemaDraft("pos_x", "acme-gmbh", "v1", new(), [Spec()]), Ctx()), PositionReasons.PositionNotFound);
    }

    [Fact]
    public void SchemaLifecycle_DraftUpdateActivate_WithOneActiveVersion()
    {
        var position = Position(PositionLifecycle.Active);
        var schemas = PositionSchemas.Empty;
        Decision<PositionEvent> Run(PositionCommand c) => PositionDecider.Decide(position, schemas, c, Ctx());
        void Apply(Decision<PositionEvent> d) => schemas = Accepted(d).Events.Aggregate(schemas, PositionDecider.EvolveSchemas);

        Apply(Run(new CreateSchemaDraft(position.PositionId, "acme-gmbh", "v1", new(Jurisdiction: "DE-BY"), [Spec()])));
        Rejected(Run(new CreateSchemaDraft(position.PositionId, "acme-gmbh", "v1", new(), [Spec()])), PositionReasons.PositionSchemaVersionExists);
        Apply(Run(new UpdateSchema(position.PositionId, "acme-gmbh", "v1", new(), [Spec(), Spec("photo")], "add photo")));
        Assert.Equal(2, schemas.Versions["v1"].FieldSpecs.Count);

        var activation = Accepted(Run(new ActivateSchema(position.PositionId, "acme-gmbh", "v1", ApplyScope.NewHiresOnly)));
        Assert.Empty(activation.Outbox);
        Apply(activation);
        Assert.Equal("v1", schemas.ActiveVersionId);
        Rejected(Run(new ActivateSchema(position.PositionId, "acme-gmbh", "v1", ApplyScope.NewHiresOnly)), PositionReasons.PositionSchemaAlreadyActive);
        Rejected(Run(new UpdateSchema(position.PositionId, "acme-gmbh", "v1", new(), [Spec()], "too late")), PositionReasons.PositionTransitionInvalid);
        Rejected(Run(new ActivateSchema(position.PositionId, "acme-gmbh", "v9", ApplyScope.NewHiresOnly)), PositionReasons.PositionSchemaVersionNotFound);

        Apply(Run(new CreateSchemaDraft(position.PositionId, "acme-gmbh", "v2", new(), [Spec()])));
        Apply(Run(new ActivateSchema(position.PositionId, "acme-gmbh", "v2", ApplyScope.CurrentAndNew)));
        Assert.Equal("v2", schemas.ActiveVersionId);
        Assert.Equal(ApplyScope.CurrentAndNew, schemas.ActiveApplyScope);
    }

    [Theory]
    [InlineData(ApplyScope.CurrentAndNew, false, true, true)]
    [InlineData(ApplyScope.CurrentAndNew, true, false, true)]
    [InlineData(ApplyScope.NewHiresOnly, false, false, false)]
    [InlineData(ApplyScope.NewHiresOnly, true, false, false)]
    public void ActivateSchema_LaunchConfirmation_AndApprovalScope_ConcernCurrentAndNewOnly(ApplyScope scope, bool confirmed, bool refused, bool governed)
    {
        var command = new ActivateSchema("pos_00000000000000a1", "acme-gmbh", "v2", scope, confirmed);
        var unconfirmed = PositionDecider.LaunchUnconfirmed(command);
        Assert.Equal(refused, unconfirmed is not null);
        if (refused) Assert.Equal(PositionReasons.BackfillLaunchUnconfirmed, unconfirmed!.Reason);
        Assert.Equal(governed ? "pos_00000000000000a1:v2" : null, PositionDecider.SchemaChangeScope(command));
        Assert.Null(PositionDecider.SchemaChangeScope(new ActivatePosition("pos_00000000000000a1")));
    }

    [Fact]
    public void ActivateCurrentAndNew_HandsOffExactlyOneBackfill_KeyedByTheRequest()
    {
        var position = Position(PositionLifecycle.Active);
        var schemas = Accepted(PositionDecider.Decide(position, PositionSchemas.Empty,
            new CreateSchemaDraft(position.PositionId, "acme-gmbh", "v1", new(), [Spec()]), Ctx())).Events.Aggregate(PositionSchemas.Empty, PositionDecider.EvolveSchemas);
        var command = new ActivateSchema(position.PositionId, "acme-gmbh", "v1", ApplyScope.CurrentAndNew);

        var first = Accepted(PositionDecider.Decide(position, schemas, command, Ctx(key: "k-act")));
        var again = Accepted(PositionDecider.Decide(position, schemas, command, Ctx(key: "k-act")));
        var other = Accepted(PositionDecider.Decide(position, schemas, command, Ctx(key: "k-other")));

        var handoff = Assert.Single(first.Outbox);
        Assert.Equal(PositionDecider.BackfillHandoffEvent, handoff.EventType);
        Assert.Equal(new Dictionary<string, string> { ["tenant_id"] = Tenant, ["company_id"] = position.CompanyId, ["position_id"] = position.PositionId, ["schema_version_id"] = "v1", ["apply_scope"] = "CURRENT_AND_NEW" },
            handoff.Payload);
        Assert.Equal(handoff.IdempotencyKey, Assert.Single(again.Outbox).IdempotencyKey);
        Assert.NotEqual(handoff.IdempotencyKey, Assert.Single(other.Outbox).IdempotencyKey);
    }

    [Theory]
    [InlineData(PositionLifecycle.Draft)]
    [InlineData(PositionLifecycle.Suspended)]
    public void UpdateAndActivate_OnAPositionThatIsNotActive_AreRefused(PositionLifecycle lifecycle)
    {
        var active = Position(PositionLifecycle.Active);
        var schemas = Accepted(PositionDecider.Decide(active, PositionSchemas.Empty,
            new CreateSchemaDraft(active.PositionId, "acme-gmbh", "v1", new(), [Spec()]), Ctx())).Events.Aggregate(PositionSchemas.Empty, PositionDecider.EvolveSchemas);
        var position = active with { Lifecycle = lifecycle };
        Rejected(PositionDecider.Decide(position, schemas, new UpdateSchema(position.PositionId, "acme-gmbh", "v1", new(), [Spec()], "why"), Ctx()), PositionReasons.PositionTransitionInvalid);
        Rejected(PositionDecider.Decide(position, schemas, new ActivateSchema(position.PositionId, "acme-gmbh", "v1", ApplyScope.NewHiresOnly), Ctx()), PositionReasons.PositionTransitionInvalid);
    }

    [Fact]
    public void SchemaCommands_NamingAnotherCompany_AreRefused()
    {
        var position = Position(PositionLifecycle.Active);
        Rejected(PositionDecider.Decide(position, PositionSchemas.Empty, new CreateSchemaDraft(position.PositionId, "other-co", "v1", new(), [Spec()]), Ctx()),
            PositionReasons.PositionAuthCompanyInvalid);
    }

    public static TheoryData<FieldSpec[], ReasonCode> BadSchemas => new()
    {
        { [], PositionReasons.PositionSchemaScopeInvalid },
        { [Spec(), Spec()], PositionReasons.PositionSchemaScopeInvalid },
        { [Spec("Licence")], PositionReasons.PositionSchemaScopeInvalid },
        { [Spec(rule: RequiredRule.Conditional)], PositionReasons.PositionSchemaScopeInvalid },
        { [Spec(predicate: "jurisdiction=DE")], PositionReasons.PositionSchemaScopeInvalid },
        { [Spec(rule: RequiredRule.Conditional, predicate: "salary=high")], PositionReasons.PositionSchemaScopeInvalid },
        { [Spec() with { PromptShort = "" }], PositionReasons.PositionSchemaScopeInvalid },
        { [Spec() with { PromptLong = new string('x', 1025) }], PositionReasons.PositionSchemaScopeInvalid },
    };

    [Theory]
    [MemberData(nameof(BadSchemas))]
    public void Validate_BadFieldSpecs_AreRefusedBeforeStorage(FieldSpec[] specs, ReasonCode reason) =>
        Assert.Equal(reason, PositionDecider.Validate(new CreateSchemaDraft("pos_x", "acme-gmbh", "v1", new(), specs))!.Reason);

    [Theory]
    [InlineData("jurisdiction=DE-BY")]
    [InlineData("selector.company_size=large")]
    [InlineData("industry_code:4711")]
    [InlineData("position_family:drivers")]
    public void Validate_ConditionalPredicates_InTheReferenceSyntax_AreAccepted(string predicate) =>
        Assert.Null(PositionDecider.Validate(new CreateSchemaDraft("pos_x", "acme-gmbh", "v1", new(), [Spec(rule: RequiredRule.Conditional, predicate: predicate)])));

    [Theory]
    [InlineData(ApplyScope.NewHiresOnly, "NewHiresOnly", "NEW_HIRES_ONLY")]
    [InlineData(ApplyScope.CurrentAndNew, "CurrentAndNew", "CURRENT_AND_NEW")]
    public void ApplyScope_SeedTokenAndStoredName_BothReadBack(ApplyScope scope, string seed, string stored)
    {
        Assert.Equal(seed, ApplyScopes.SeedToken(scope));
        Assert.Equal(stored, WireNames.Of(scope));
        Assert.True(WireNames.TryParse<ApplyScope>(seed, out var fromSeed));
        Assert.True(WireNames.TryParse<ApplyScope>(stored, out var fromStored));
        Assert.Equal((scope, scope), (fromSeed, fromStored));
    }
}
