using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Selene.Learning;
using Selene.Postgres.Stores;
using Selene.Runtime;
using Selene.Runtime.Learn;
using Selene.Runtime.Platform;

namespace Selene.Cli;

/// <summary>
/// <c>selene learn</c>: the learning loop over a tenant's journal (docs/learning.md). <c>ingest</c> reads the journal into
/// facts, <c>bind</c> folds them into priors, <c>priors</c> lists the priors and the three query primitives, <c>mode</c> shows
/// the tenant's mode or switches it through the governed simulation LEARN_MODE_SET_COMMIT. Tables by default, <c>--json</c>
/// for machines.
/// </summary>
internal static class LearnCommand
{
    public static Command Create(Option<string?> dataDirOption)
    {
        var learn = new Command("learn", "The learning loop: failures and policy denials of the journal become priors (docs/learning.md)");
        learn.Subcommands.Add(Ingest(dataDirOption));
        learn.Subcommands.Add(Bind(dataDirOption));
        learn.Subcommands.Add(Priors(dataDirOption));
        learn.Subcommands.Add(Mode(dataDirOption));
        return learn;
    }

    private static Option<string> TenantOption() => new("--tenant") { Description = "Tenant id", Required = true };

    private static Option<bool> JsonOption() => new("--json") { Description = "Print JSON instead of a table" };

    private static bool TryTenant(ParseResult parse, Option<string> option, out TenantId tenant)
    {
        var id = parse.GetValue(option)!;
        tenant = TenantId.IsValid(id) ? new TenantId(id) : default;
        return TenantId.IsValid(id);
    }

    private const string TenantRule = "tenant ids are 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit";

    private static CorrelationId NewCorrelation() => CorrelationId.FromDigest(RandomNumberGenerator.GetBytes(32));

    private static Command Ingest(Option<string?> dataDirOption)
    {
        var tenant = TenantOption();
        var json = JsonOption();
        var policy = new Option<string>("--wrapper-policy") { Description = "The fallback mode the facts are ingested under: strict | hybrid | lenient", DefaultValueFactory = _ => "hybrid" };
        policy.AcceptOnlyFromAmong("strict", "hybrid", "lenient");
        var fromStart = new Option<bool>("--from-start") { Description = "Read the whole journal again (facts already stored are not stored twice)" };
        var command = new Command("ingest", "Read the tenant's journal after the watermark into facts; quarantine what cannot be read") { tenant, policy, fromStart, json };
        command.SetAction(async (parse, ct) =>
        {
            if (!TryTenant(parse, tenant, out var id)) return Cli.Fail(ReasonCodes.InputFieldInvalid, TenantRule);
            await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
            var mode = WireNames.Parse<WrapperPolicy>(parse.GetValue(policy)!.ToUpperInvariant());
            var r = await new LearnOperations(db, TimeProvider.System).IngestAsync(id, mode, parse.GetValue(fromStart), NewCorrelation(), ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(new JsonObject
                {
                    ["reason_code"] = LearnReasons.LearnIngested.Name, ["tenant_id"] = id.Value, ["wrapper_policy"] = WireNames.Of(mode),
                    ["from_seq"] = r.FromSeq, ["to_seq"] = r.ToSeq, ["entries_read"] = r.Read, ["facts"] = r.Facts, ["facts_stored"] = r.FactsStored,
                    ["quarantined"] = r.Quarantined, ["quarantined_stored"] = r.QuarantinedStored, ["skipped"] = r.Skipped,
                }.ToJsonString());
                return 0;
            }
            Console.WriteLine($"{LearnReasons.LearnIngested.Name} tenant {id}: journal seq {r.FromSeq + 1}..{r.ToSeq} ({r.Read} entries, {WireNames.Of(mode)}): " +
                $"{r.Facts} fact(s), {r.FactsStored} new; {r.Quarantined} quarantined, {r.QuarantinedStored} new; {r.Skipped} naming no simulation");
            return 0;
        });
        return command;
    }

    private static Command Bind(Option<string?> dataDirOption)
    {
        var tenant = TenantOption();
        var json = JsonOption();
        var command = new Command("bind", "Fold the facts not bound yet into failure and policy priors (binder v1)") { tenant, json };
        command.SetAction(async (parse, ct) =>
        {
            if (!TryTenant(parse, tenant, out var id)) return Cli.Fail(ReasonCodes.InputFieldInvalid, TenantRule);
            await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
            var r = await new LearnOperations(db, TimeProvider.System).BindAsync(id, NewCorrelation(), ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(new JsonObject
                {
                    ["reason_code"] = LearnReasons.LearnBound.Name, ["tenant_id"] = id.Value, ["binder_version"] = Binder.Version, ["facts_bound"] = r.Bound,
                    ["minted"] = r.Minted, ["supported"] = r.Supported, ["contradicted"] = r.Contradicted, ["fact_only"] = r.FactOnly, ["priors_changed"] = r.CapsulesChanged,
                }.ToJsonString());
                return 0;
            }
            Console.WriteLine($"{LearnReasons.LearnBound.Name} tenant {id}: {r.Bound} fact(s) bound (binder {Binder.Version}): {r.Minted} prior(s) minted, " +
                $"{r.Supported} supported, {r.Contradicted} contradicting, {r.FactOnly} kept as facts only; {r.CapsulesChanged} prior(s) changed");
            return 0;
        });
        return command;
    }

    private static Command Priors(Option<string?> dataDirOption)
    {
        var tenant = TenantOption();
        var json = JsonOption();
        var view = new Option<string>("--view")
        {
            Description = "What to list: priors (both kinds) | recent-failures | gate-rollup | guard-denials (the three query primitives)",
            DefaultValueFactory = _ => "priors",
        };
        view.AcceptOnlyFromAmong("priors", "recent-failures", "gate-rollup", "guard-denials");
        var kind = new Option<string?>("--kind") { Description = "Only priors of this kind: failure | policy" };
        kind.AcceptOnlyFromAmong("failure", "policy");
        var action = new Option<string?>("--action") { Description = "Only this simulation id (TaskSpec action.kind)" };
        var user = new Option<string?>("--user") { Description = "Only this acting user (TaskSpec target.id)" };
        var failure = new Option<string?>("--failure-reason-code") { Description = "Only this failure code" };
        var policy = new Option<string?>("--policy-reason-code") { Description = "Only this policy code" };
        var alias = new Option<string?>("--reason-code") { Description = "Refused: the legacy alias is accepted at ingest only (use --failure-reason-code)" };
        var limit = new Option<int?>("--limit") { Description = $"At most this many rows per list (default {LearningStore.DefaultLimit}, at most {LearningStore.MaxLimit})" };
        var command = new Command("priors", "List the tenant's priors, or one of the three query primitives, in their deterministic order")
        {
            tenant, view, kind, action, user, failure, policy, alias, limit, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (!TryTenant(parse, tenant, out var id)) return Cli.Fail(ReasonCodes.InputFieldInvalid, TenantRule);
            var filters = new Dictionary<string, string>(StringComparer.Ordinal);
            if (parse.GetValue(failure) is { } f) filters[ReasonSemantics.FailureField] = f;
            if (parse.GetValue(policy) is { } p) filters[ReasonSemantics.PolicyField] = p;
            if (parse.GetValue(alias) is { } a) filters[ReasonSemantics.LegacyFailureAlias] = a;
            if (ReasonSemantics.FromQuery(filters, out var semantics) is { } refused) return Cli.Fail(refused.Reason, refused.Detail);
            if (parse.GetValue(limit) is < 1 or > LearningStore.MaxLimit)
                return Cli.Fail(ReasonCodes.InputFieldInvalid, $"--limit must be 1..{LearningStore.MaxLimit}");
            string? Filter(string value) => value.Length == 0 ? null : value;
            var (failureCode, policyCode) = (Filter(semantics.FailureReasonCode), Filter(semantics.PolicyReasonCode));
            var (actionKind, targetId, max) = (parse.GetValue(action), parse.GetValue(user), parse.GetValue(limit));

            await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
            await using var tx = await new LearnOperations(db, TimeProvider.System).ReadAsync(id, ct);
            var asJson = parse.GetValue(json);
            switch (parse.GetValue(view))
            {
                case "recent-failures":
                {
                    var rows = await LearningStore.RecentFailuresAsync(tx, actionKind, failureCode, max, ct);
                    return Print(asJson, "recent_failures", rows.Select(r => new (string, JsonNode?)[]
                    {
                        ("seq", r.Seq), ("run_id", r.RunId), ("target_id", r.TargetId), ("action_kind", r.ActionKind), ("failure_reason_code", r.FailureReasonCode),
                        ("signal", r.Signal), ("event_type", r.EventType), ("observed_at", new UnixNanos(r.ObservedAt).ToString()),
                    }).ToArray());
                }
                case "gate-rollup":
                {
                    var rows = await LearningStore.GateRollupAsync(tx, failureCode, max, ct);
                    return Print(asJson, "gate_rollup", rows.Select(r => new (string, JsonNode?)[]
                    {
                        ("failure_reason_code", r.FailureReasonCode.Length == 0 ? "-" : r.FailureReasonCode), ("engine", r.Engine), ("event_type", r.EventType),
                        ("signal", r.Signal), ("fact_count", r.FactCount), ("last_observed_at", new UnixNanos(r.LastObservedAt).ToString()),
                    }).ToArray());
                }
                case "guard-denials":
                {
                    var rows = await LearningStore.GuardDenialsAsync(tx, actionKind, policyCode, max, ct);
                    return Print(asJson, "guard_denials", rows.Select(r => new (string, JsonNode?)[]
                    {
                        ("seq", r.Seq), ("run_id", r.RunId), ("target_id", r.TargetId), ("action_kind", r.ActionKind), ("policy_reason_code", r.PolicyReasonCode),
                        ("signal", r.Signal), ("event_type", r.EventType), ("observed_at", new UnixNanos(r.ObservedAt).ToString()),
                    }).ToArray());
                }
                default:
                {
                    var only = parse.GetValue(kind);
                    var priors = new List<Capsule>();
                    if (only is null or "policy") priors.AddRange(await LearningStore.PriorsAsync(tx, policy: true, actionKind, targetId, policyCode, max, ct));
                    if (only is null or "failure") priors.AddRange(await LearningStore.PriorsAsync(tx, policy: false, actionKind, targetId, failureCode, max, ct));
                    var now = UnixNanos.FromDateTimeOffset(TimeProvider.System.GetUtcNow()).Value;
                    return Print(asJson, "priors", priors.Select(c => new (string, JsonNode?)[]
                    {
                        ("kind", c is PolicyPrior ? "POLICY" : "FAILURE"), ("reason_code", c.Code.Length == 0 ? "-" : c.Code), ("target_id", c.Key.TargetId),
                        ("action_kind", c.Key.ActionKind), ("support_count", c.SupportCount), ("contradiction_count", c.ContradictionCount),
                        ("confidence_permille", c.ConfidencePermille), ("last_seen_at", new UnixNanos(c.LastSeenTs).ToString()),
                        ("eligible", Eligible(c, now)),
                        ("minted_by", c.MintedBy),
                        ("prior_id", c.DerivedUpsertKey),
                    }).ToArray());
                }
            }
        });
        return command;
    }

    /// <summary>What a turn would make of the prior (the advisor's own rule): its use, or NONE:&lt;code&gt; when it fails conformance.</summary>
    private static string Eligible(Capsule prior, long now)
    {
        var (use, failed) = LearnAdvisor.UseOf(prior, SeleneCatalog.Default.Posture(prior.Key.ActionKind).Record, now);
        return failed is null ? WireNames.Of(use) : "NONE:" + failed.Name;
    }

    /// <summary>Prints rows (name/value pairs, the same names in every row) as a JSON object of one array, or as a table.</summary>
    private static int Print(bool json, string name, IReadOnlyList<(string Name, JsonNode? Value)[]> rows)
    {
        if (json)
        {
            var items = rows.Select(r => (JsonNode)new JsonObject(r.Select(c => KeyValuePair.Create(c.Name, c.Value)))).ToArray();
            Console.WriteLine(new JsonObject { [name] = new JsonArray(items) }.ToJsonString());
            return 0;
        }
        if (rows.Count > 0)
            Cli.PrintTable(rows[0].Select(c => c.Name.ToUpperInvariant()).ToArray(),
                rows.Select(r => r.Select(c => c.Value?.ToString() ?? "-").ToArray()).ToArray());
        Console.WriteLine($"{name.Replace('_', ' ')}: {rows.Count} row(s)");
        return 0;
    }

    private static Command Mode(Option<string?> dataDirOption)
    {
        var (tenant, user, note) = GovCommand.Actor();
        user.Required = false;
        note.Required = false;
        user.Description = "To switch: the operator, a user of that tenant with LEARN_CONTROL at mode X";
        var json = JsonOption();
        var mode = new Argument<string?>("mode") { Description = "To switch: shadow | guided | prescriptive (absent: show the mode)", Arity = ArgumentArity.ZeroOrOne };
        mode.AcceptOnlyFromAmong("shadow", "guided", "prescriptive");
        var command = new Command("mode", "Show the tenant's learning mode, or switch it (LEARN_MODE_SET_COMMIT, governed and journaled)") { mode, tenant, user, note, json };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(mode) is { } target)
            {
                if (parse.GetValue(user) is null || parse.GetValue(note) is null)
                    return Cli.Fail(ReasonCodes.InputFieldInvalid, "switching the mode needs --user (who) and --note (why)");
                return await GovCommand.RunAsync(parse, dataDirOption, tenant, user, LearnSimulations.ModeSet, new JsonObject
                {
                    ["mode"] = target.ToUpperInvariant(),
                    ["note"] = parse.GetValue(note),
                }, ct);
            }
            if (!TryTenant(parse, tenant, out var id)) return Cli.Fail(ReasonCodes.InputFieldInvalid, TenantRule);
            await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
            var route = LearnModule.Module.Routes.Single();
            var read = await route.Query(new ReadRequest(db, id, new Dictionary<string, string>(), new Dictionary<string, string>(),
                UnixNanos.FromDateTimeOffset(TimeProvider.System.GetUtcNow())), ct);
            if (read is ReadResult.Refused refused) return Cli.Fail(refused.Reason, refused.Detail);
            var body = ((ReadResult.Ok)read).Body;
            if (parse.GetValue(json))
            {
                Console.WriteLine(body.ToJsonString());
                return 0;
            }
            var by = body["learning"] is { } l ? $" (set by {l["last_actor_user_id"]}: {l["last_note"]})" : " (never set)";
            Console.WriteLine($"tenant {id}: learning mode {body["mode"]}{by}; {body["facts"]} fact(s), {body["quarantined"]} quarantined, " +
                $"{body["failure_priors"]} failure prior(s), {body["policy_priors"]} policy prior(s), journal ingested to seq {body["ingested_seq"]}");
            return 0;
        });
        return command;
    }
}
