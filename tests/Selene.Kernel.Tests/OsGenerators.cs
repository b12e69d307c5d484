using FsCheck;
using FsCheck.Fluent;
using Selene.Kernel.Os;

namespace Selene.Kernel.Tests;

/// <summary>
/// FsCheck generators for PH1.OS inputs. Biased towards passing gates and single moves so that every branch
/// (including DISPATCH_SIMULATION) is reached often, with enough drift to reach every refusal.
/// </summary>
internal static class OsGenerators
{
    public static Gen<bool> Mostly(int trueWeight, int falseWeight) =>
        Gen.Frequency((trueWeight, Gen.Constant(true)), (falseWeight, Gen.Constant(false)));

    public static Gen<bool> Likely => Mostly(9, 1);
    public static Gen<bool> Rarely => Mostly(1, 5);

    public static Gen<OsGateDecision> Decision =>
        Gen.Frequency((12, Gen.Constant(OsGateDecision.Allow)), (1, Gen.Elements(OsGateDecision.Deny, OsGateDecision.Escalate, OsGateDecision.Invalid)));

    public static Gen<OsTurnPosture> Posture =>
        from session in Likely
        from transcript in Likely
        from nlp in Likely
        from requires in Rarely
        from received in Likely
        from prompt in Likely
        select new OsTurnPosture(session, transcript, nlp, requires, received, prompt);

    public static Gen<OsGovernanceDecisions> Governance =>
        Gen.Frequency(
            (4, Gen.Constant(OsGovernanceDecisions.AllAllow)),
            (1, from a in Decision from b in Decision from c in Decision from d in Decision from e in Decision from f in Decision
                select new OsGovernanceDecisions(a, b, c, d, e, f)),
            (1, Gen.Elements(OsGateDecision.Deny, OsGateDecision.Escalate).Select(d => new OsGovernanceDecisions(d, d, d, d, d, d))));

    public static Gen<OsExecutionDeps> Deps =>
        from access in Likely
        from blueprint in Likely
        from simulation in Likely
        from idemRequired in Mostly(1, 1)
        from idemPresent in Likely
        from leaseRequired in Rarely
        from leaseValid in Likely
        select new OsExecutionDeps(access, blueprint, simulation, idemRequired, idemPresent, leaseRequired, leaseValid);

    public static Gen<OsMoveRequest> Move =>
        from chat in Rarely
        from clarify in Rarely
        from confirm in Rarely
        from explain in Mostly(1, 9)
        from wait in Mostly(1, 9)
        from tool in Rarely
        from simulation in Rarely
        from ownerDrift in Mostly(1, 12)
        from otherOwner in Gen.Elements<string?>(null, "PH1.NLP", "PH1.X", "PH1.CONTEXT")
        select new OsMoveRequest(chat, clarify, ownerDrift ? otherOwner : clarify ? OsEngineIds.ClarifyOwner : null,
            confirm, explain, wait, tool, simulation);

    public static Gen<OsOptionalBudget> Budget =>
        Gen.Frequency(
            (6, from requested in Gen.Choose(0, 64)
                from budget in Gen.Choose(0, 64)
                from estimate in Gen.Choose(0, 120)
                select new OsOptionalBudget(true, (ushort)requested, (ushort)budget, (ushort)Math.Max(0, requested - budget), 120, (uint)estimate)),
            (1, from enforced in Likely
                from requested in Gen.Choose(0, 70)
                from budget in Gen.Choose(0, 70)
                from skipped in Gen.Choose(0, 70)
                from latencyBudget in Gen.Choose(0, 60_010)
                from estimate in Gen.Choose(0, 60_010)
                select new OsOptionalBudget(enforced, (ushort)requested, (ushort)budget, (ushort)skipped, (uint)latencyBudget, (uint)estimate)));

    public static Gen<OsOutcomeEntry> Entry(CorrelationId correlation, TurnId turn) =>
        from engine in Gen.Elements("PH1.NLP", "PH1.LANG", "PH1.SEARCH")
        from actionClass in Gen.Elements(OsOutcomeActionClass.ActNow, OsOutcomeActionClass.QueueLearn, OsOutcomeActionClass.AuditOnly, OsOutcomeActionClass.Drop)
        from consumed in Gen.Frequency((4, Gen.Constant("PH1.X")), (1, Gen.Constant(OsOutcomeEntry.NotConsumed)))
        from latency in Gen.Choose(0, 50)
        from delta in ArbMap.Default.GeneratorFor<bool>()
        from foreign in Mostly(1, 30)
        select new OsOutcomeEntry(engine, "DRAFT", foreign ? new CorrelationId(1) : correlation, turn, actionClass, consumed, (uint)latency, delta, "OK");

    public static Gen<OsOutcomeEntry[]> Entries(CorrelationId correlation, TurnId turn) =>
        from count in Gen.Frequency((3, Gen.Constant(0)), (2, Gen.Choose(1, 3)))
        from entries in Gen.ArrayOf(Entry(correlation, turn), count)
        select entries;

    /// <summary>Gate inputs: a policy request and the move request that goes with it (dispatch flags shared).</summary>
    public static Gen<(OsPolicyInput Policy, OsMoveRequest Move)> GateInputs =>
        from move in Move
        from posture in Posture
        from governance in Governance
        from deps in Deps
        from budget in Budget
        from entries in Entries(OsFixtures.Correlation, OsFixtures.Turn)
        from maxGuards in Gen.Frequency((6, Gen.Constant(8)), (1, Gen.Choose(0, 10)))
        from invariants in Mostly(40, 1)
        select (new OsPolicyInput
        {
            Correlation = OsFixtures.Correlation,
            Turn = OsFixtures.Turn,
            MaxGuardFailures = (byte)maxGuards,
            MaxDiagnostics = 8,
            MaxOutcomeEntries = 128,
            Posture = posture,
            PromptPolicyRequired = move.ClarifyRequired || move.ConfirmRequired,
            ToolRequested = move.ToolRequested,
            SimulationRequested = move.SimulationRequested,
            Governance = governance,
            Deps = deps,
            NoEngineToEngineCalls = invariants,
            NoSimulationNoExecution = true,
            OneTurnOneMove = true,
            OptionalBudget = budget,
            Outcomes = entries,
        }, move);

    private static readonly string[] IdPool =
        [.. OsEngineIds.TurnOptional, .. OsEngineIds.AlwaysOn, "PH1.RLL", "PH1.GOV", "PH1.NOPE", "PH1.TENANT"];

    private static Gen<string[]> AlwaysOn(TurnPath path, OsVoiceContext? voice) =>
        Gen.Frequency(
            (8, Gen.Constant(OsTurnSlice.ExpectedAlwaysOn(path, voice).ToArray())),
            (1, Gen.Shuffle(OsTurnSlice.ExpectedAlwaysOn(path, voice).ToArray())),
            (1, Gen.ListOf(Gen.Elements(IdPool), 0).SelectMany(_ => Gen.Choose(0, 10)).SelectMany(n => Gen.ArrayOf(Gen.Elements(IdPool), n))));

    private static Gen<string[]> Optional =>
        Gen.Frequency(
            (6, from n in Gen.Choose(0, 4) from ids in Gen.ArrayOf(Gen.Elements(OsEngineIds.TurnOptional.ToArray()), n) select ids),
            (1, from n in Gen.Choose(0, 6) from ids in Gen.ArrayOf(Gen.Elements(IdPool), n) select ids));

    public static Gen<OsTopLevelInput> TopLevel =>
        from correlationHigh in ArbMap.Default.GeneratorFor<ulong>()
        from correlationLow in Gen.Frequency((3, Gen.Choose(1, 1000).Select(i => (ulong)i)), (1, ArbMap.Default.GeneratorFor<ulong>()))
        from turnValue in Gen.Frequency((5, Gen.Choose(1, 100).Select(i => (ulong)i)), (1, ArbMap.Default.GeneratorFor<ulong>()))
        let correlation = new CorrelationId(new UInt128(correlationHigh % 4 == 0 ? correlationHigh : 0, correlationLow == 0 ? 1 : correlationLow))
        let turn = new TurnId(turnValue == 0 ? 1 : turnValue)
        from path in Gen.Elements(TurnPath.Text, TurnPath.Voice)
        from voice in Gen.Elements<OsVoiceContext?>(
            new OsVoiceContext(VoicePlatform.Ios, VoiceTrigger.WakeWord), new OsVoiceContext(VoicePlatform.Android, VoiceTrigger.Explicit),
            new OsVoiceContext(VoicePlatform.Desktop, VoiceTrigger.WakeWord), null)
        from voiceDrift in Mostly(1, 20)
        let context = voiceDrift ? voice : path == TurnPath.Voice ? voice ?? new OsVoiceContext(VoicePlatform.Ios, VoiceTrigger.Explicit) : null
        from alwaysOn in AlwaysOn(path, context)
        from optional in Optional
        from max in Gen.Frequency((12, Gen.Choose(0, 8)), (1, Gen.Choose(0, 70)))
        from posture in Posture
        from move in Move
        from governance in Governance
        from deps in Deps
        from entries in Entries(correlation, turn)
        select new OsTopLevelInput
        {
            Correlation = correlation,
            Turn = turn,
            Path = path,
            Voice = context,
            AlwaysOnCompletedSequence = [.. alwaysOn],
            OptionalRequested = [.. optional],
            MaxOptionalInvocations = (byte)max,
            Posture = posture,
            Move = move,
            Governance = governance,
            Deps = deps,
            Outcomes = [.. entries],
        };

    /// <summary>Well-formed UTF-16 text of any shape (the codec must carry strings the slice would refuse).</summary>
    public static Gen<string?> AnyText =>
        Gen.Frequency(
            (8, ArbMap.Default.GeneratorFor<string>().Where(s => s is not null && IdRules.IsWellFormedUtf16(s)).Select(s => (string?)s)),
            (2, Gen.Elements<string?>("", "NONE", "PH1.X", "é€\"\\\n\u0001😀", "PH1.\u00C9")),
            (1, Gen.Constant<string?>(null)));

    /// <summary>Top-level inputs with arbitrary strings, ids of 0 and odd bytes: the codec's whole domain.</summary>
    public static Gen<OsTopLevelInput> AnyTopLevel =>
        from input in TopLevel
        from ids in Gen.ArrayOf(AnyText, 3)
        from entryText in Gen.ArrayOf(AnyText, 4)
        from zeroCorrelation in Mostly(1, 20)
        from zeroTurn in Mostly(1, 20)
        from owner in AnyText
        from latency in ArbMap.Default.GeneratorFor<uint>()
        from max in ArbMap.Default.GeneratorFor<byte>()
        select input with
        {
            Correlation = zeroCorrelation ? default : input.Correlation,
            Turn = zeroTurn ? default : input.Turn,
            OptionalRequested = [.. input.OptionalRequested, .. ids!],
            MaxOptionalInvocations = max,
            Move = input.Move with { ClarifyOwnerEngineId = owner },
            Outcomes = [.. input.Outcomes, new OsOutcomeEntry(entryText[0]!, entryText[1]!, input.Correlation, input.Turn, OsOutcomeActionClass.Drop, entryText[2]!, latency, true, entryText[3]!)],
        };
}
