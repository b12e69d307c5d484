namespace Selene.Kernel.Catalog;

/// <summary>What the catalog says about one requested simulation id: the gate's catalog inputs (reference §1.2).</summary>
/// <param name="Record">The catalog record, or null when the id is not in the catalog.</param>
/// <param name="Blueprint">The blueprint whose steps bind the simulation, if any.</param>
public readonly record struct CatalogPosture(SimulationRecord? Record, BlueprintRecord? Blueprint)
{
    /// <summary>simulation_active: registered and ACTIVE.</summary>
    public bool SimulationActive => Record is { Status: SimulationStatus.Active };

    /// <summary>blueprint_active: the simulation is bound to a blueprint and that blueprint is ACTIVE.</summary>
    public bool BlueprintActive => Blueprint is { Status: BlueprintStatus.Active };

    /// <summary>True for ids that must fail closed as LEGACY_DO_NOT_WIRE (reference §0.3, §1.8).</summary>
    public bool Legacy => Record is { Status: SimulationStatus.LegacyDoNotWire };
}

/// <summary>
/// The simulation and blueprint catalogs (reference §0.2–§0.4), validated once on construction: unique ids, every
/// blueprint step names a catalog simulation of the step's engine, a simulation is bound to at most one blueprint,
/// every ACTIVE simulation is bound to a blueprint, no ACTIVE blueprint binds a legacy id, and the delivery
/// ownership lock of §1.8 holds. An invalid catalog is a programming error: the constructor throws.
/// </summary>
public sealed class SimulationCatalog
{
    /// <summary>The legacy LINK delivery ids that must stay LEGACY_DO_NOT_WIRE (reference §0.3).</summary>
    public static IReadOnlyList<string> LegacyLinkDeliveryIds { get; } =
        ["LINK_INVITE_SEND_COMMIT", "LINK_INVITE_RESEND_COMMIT", "LINK_DELIVERY_FAILURE_HANDLING_COMMIT"];

    /// <summary>The only engines that may own recipient send/resend/delivery simulations (reference §1.8).</summary>
    public static IReadOnlyList<string> DeliveryOwners { get; } = ["PH1.BCAST", "PH1.DELIVERY"];

    /// <summary>
    /// Simulations of the reference whose names say "send" or "deliver" but which send nothing to recipients, each with
    /// the one engine that may own it: PH1.REM's §10.3 timing records (a firing and its attempt, a retry time: REM delivers
    /// no content, §10.5) and PH1.ONB's evidence capture (§4.3: ONB records the photo proof; the OS delivers the evidence
    /// through BCAST); and PH1.LINK's start of LINK_DELIVER_INVITE (§3.6: LINK records the request; BCAST and DELIVERY send).
    /// </summary>
    public static IReadOnlyDictionary<string, string> NonDeliveringIds { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["REMINDER_DELIVER_PRE_COMMIT"] = "PH1.REM",
        ["REMINDER_DELIVER_DUE_COMMIT"] = "PH1.REM",
        ["REMINDER_DELIVERY_RETRY_SCHEDULE_COMMIT"] = "PH1.REM",
        ["ONB_EMPLOYEE_PHOTO_CAPTURE_SEND_COMMIT"] = "PH1.ONB",
        ["LINK_DELIVER_INVITE_START_COMMIT"] = "PH1.LINK",
    };

    private readonly Dictionary<string, SimulationRecord> _simulations;
    private readonly Dictionary<string, BlueprintRecord> _bindings;

    /// <summary>Builds and validates the catalog; throws <see cref="ArgumentException"/> listing every problem.</summary>
    public SimulationCatalog(IEnumerable<SimulationRecord> simulations, IEnumerable<BlueprintRecord> blueprints)
    {
        Simulations = simulations.OrderBy(s => s.SimulationId, StringComparer.Ordinal).ToArray();
        Blueprints = blueprints.OrderBy(b => b.ProcessId, StringComparer.Ordinal).ToArray();
        var problems = Validate(Simulations, Blueprints);
        if (problems.Count > 0) throw new ArgumentException("invalid catalog: " + string.Join("; ", problems));
        _simulations = Simulations.ToDictionary(s => s.SimulationId, StringComparer.Ordinal);
        _bindings = Blueprints.SelectMany(b => b.Steps.Select(s => (s.SimulationId, b))).ToDictionary(p => p.SimulationId, p => p.b, StringComparer.Ordinal);
    }

    /// <summary>Every simulation, by id.</summary>
    public IReadOnlyList<SimulationRecord> Simulations { get; }

    /// <summary>Every blueprint, by process id.</summary>
    public IReadOnlyList<BlueprintRecord> Blueprints { get; }

    /// <summary>The catalog's answer for a requested simulation id (unknown ids give an empty posture).</summary>
    public CatalogPosture Posture(string simulationId) =>
        new(_simulations.GetValueOrDefault(simulationId), _bindings.GetValueOrDefault(simulationId));

    /// <summary>The blueprint binding a simulation, if any.</summary>
    public BlueprintRecord? BlueprintOf(string simulationId) => _bindings.GetValueOrDefault(simulationId);

    /// <summary>Every rule the catalog breaks, in a stable order (empty when valid).</summary>
    public static IReadOnlyList<string> Validate(IReadOnlyList<SimulationRecord> simulations, IReadOnlyList<BlueprintRecord> blueprints)
    {
        var problems = new List<string>();
        var byId = new Dictionary<string, SimulationRecord>(StringComparer.Ordinal);
        foreach (var s in simulations)
        {
            if (!IsCatalogId(s.SimulationId)) problems.Add($"simulation id '{s.SimulationId}' is not UPPER_SNAKE");
            if (!byId.TryAdd(s.SimulationId, s)) problems.Add($"simulation {s.SimulationId} is registered twice");
            if (s.CapabilityByTenantPolicy && s.RequiredCapability is null)
                problems.Add($"simulation {s.SimulationId} requires a capability by the tenant's policy but names none");
        }

        var processes = new HashSet<string>(StringComparer.Ordinal);
        var boundTo = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var b in blueprints)
        {
            if (!IsCatalogId(b.ProcessId)) problems.Add($"process id '{b.ProcessId}' is not UPPER_SNAKE");
            if (!processes.Add(b.ProcessId)) problems.Add($"blueprint {b.ProcessId} is registered twice");
            if (b.Version < 1) problems.Add($"blueprint {b.ProcessId} has version {b.Version}");
            if (b.Steps.Count == 0) problems.Add($"blueprint {b.ProcessId} has no steps");
            foreach (var step in b.Steps)
            {
                if (!byId.TryGetValue(step.SimulationId, out var sim))
                {
                    problems.Add($"blueprint {b.ProcessId} names unknown simulation {step.SimulationId}");
                    continue;
                }
                if (!string.Equals(sim.OwningEngine, step.EngineId, StringComparison.Ordinal))
                    problems.Add($"blueprint {b.ProcessId} runs {step.SimulationId} on {step.EngineId}, but {sim.OwningEngine} owns it");
                if (!boundTo.TryAdd(step.SimulationId, b.ProcessId) && !string.Equals(boundTo[step.SimulationId], b.ProcessId, StringComparison.Ordinal))
                    problems.Add($"simulation {step.SimulationId} is bound to blueprints {boundTo[step.SimulationId]} and {b.ProcessId}");
                if (b.Status == BlueprintStatus.Active && sim.Status == SimulationStatus.LegacyDoNotWire)
                    problems.Add($"ACTIVE blueprint {b.ProcessId} binds legacy simulation {step.SimulationId}");
            }
        }

        foreach (var s in simulations)
        {
            if (s.Status == SimulationStatus.Active && !boundTo.ContainsKey(s.SimulationId))
                problems.Add($"ACTIVE simulation {s.SimulationId} is bound to no blueprint");
            problems.AddRange(DeliveryOwnershipProblems(s));
        }
        return problems;
    }

    /// <summary>
    /// The delivery ownership lock (reference §1.8): the legacy LINK delivery ids exist only as LEGACY_DO_NOT_WIRE,
    /// and any other simulation that sends, resends or delivers to recipients is owned by PH1.BCAST or PH1.DELIVERY
    /// (the records of <see cref="NonDeliveringIds"/>, owned by their engine, deliver nothing).
    /// </summary>
    public static IEnumerable<string> DeliveryOwnershipProblems(SimulationRecord s)
    {
        if (LegacyLinkDeliveryIds.Contains(s.SimulationId, StringComparer.Ordinal))
        {
            if (s.Status != SimulationStatus.LegacyDoNotWire)
                yield return $"legacy delivery id {s.SimulationId} must be LEGACY_DO_NOT_WIRE, not {WireNames.Of(s.Status)}";
            yield break;
        }
        if (NonDeliveringIds.TryGetValue(s.SimulationId, out var owner) && string.Equals(owner, s.OwningEngine, StringComparison.Ordinal)) yield break;
        if (s.Status != SimulationStatus.LegacyDoNotWire && IsRecipientDelivery(s.SimulationId) && !DeliveryOwners.Contains(s.OwningEngine, StringComparer.Ordinal))
            yield return $"{s.SimulationId} delivers to recipients but is owned by {s.OwningEngine}; only PH1.BCAST and PH1.DELIVERY may";
    }

    private static bool IsRecipientDelivery(string id) =>
        id.Contains("_SEND_", StringComparison.Ordinal) || id.Contains("_RESEND_", StringComparison.Ordinal) || id.Contains("_DELIVER", StringComparison.Ordinal);

    private static bool IsCatalogId(string id) =>
        id.Length is > 0 and <= 96 && id[0] is >= 'A' and <= 'Z' && id.All(c => c is (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_');
}
