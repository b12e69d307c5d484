using System.Numerics;

namespace Selene.Kernel.Os;

/// <summary>
/// The gates that failed in an OS_POLICY_EVALUATE (reference §1.3). Bit order is the <c>guard_failures</c> check
/// order, so rendering walks the bits from the lowest up, and it is also the reason-code precedence
/// (<see cref="OsGate.FirstFailing"/>).
/// </summary>
[Flags]
public enum OsGuardFailures : uint
{
    /// <summary>Every gate passed.</summary>
    None = 0,
    /// <summary>SESSION_GATE_FAILED: no active session.</summary>
    Session = 1u << 0,
    /// <summary>UNDERSTANDING_GATE_FAILED: transcript not ok or NLP confidence low.</summary>
    Understanding = 1u << 1,
    /// <summary>CONFIRMATION_GATE_FAILED: a confirmation is required and was not received.</summary>
    Confirmation = 1u << 2,
    /// <summary>PROMPT_POLICY_GATE_FAILED: the prompt policy applies and did not pass.</summary>
    PromptPolicy = 1u << 3,
    /// <summary>POLICY_GATE_FAILED.</summary>
    Policy = 1u << 4,
    /// <summary>TENANT_GATE_FAILED.</summary>
    Tenant = 1u << 5,
    /// <summary>GOV_GATE_FAILED.</summary>
    Gov = 1u << 6,
    /// <summary>QUOTA_GATE_FAILED.</summary>
    Quota = 1u << 7,
    /// <summary>WORK_GATE_FAILED.</summary>
    Work = 1u << 8,
    /// <summary>CAPREQ_GATE_FAILED.</summary>
    Capreq = 1u << 9,
    /// <summary>GOVERNANCE_CONTRADICTION: some governance engines allow and others do not.</summary>
    GovernanceContradiction = 1u << 10,
    /// <summary>ACCESS_GATE_FAILED.</summary>
    Access = 1u << 11,
    /// <summary>BLUEPRINT_GATE_FAILED: a simulation was requested and its blueprint is not active.</summary>
    Blueprint = 1u << 12,
    /// <summary>SIMULATION_GATE_FAILED: a simulation was requested and it is not active.</summary>
    Simulation = 1u << 13,
    /// <summary>IDEMPOTENCY_GATE_FAILED: an idempotency key is required and missing.</summary>
    Idempotency = 1u << 14,
    /// <summary>LEASE_GATE_FAILED: a lease is required and not valid.</summary>
    Lease = 1u << 15,
    /// <summary>OUTCOME_CLASSIFICATION_GATE_FAILED (GATE-U1).</summary>
    OutcomeClassification = 1u << 16,
    /// <summary>OUTCOME_UNRESOLVED_GATE_FAILED (GATE-U2): an ACT_NOW or QUEUE_LEARN outcome nobody consumed.</summary>
    OutcomeUnresolved = 1u << 17,
    /// <summary>OPTIONAL_BUDGET_GATE_FAILED (GATE-U3).</summary>
    OptionalBudget = 1u << 18,
}

/// <summary>Rendering of <see cref="OsGuardFailures"/> to the reference's <c>guard_failures</c> strings.</summary>
public static class OsGuardFailureNames
{
    /// <summary>The number of distinct guards.</summary>
    public const int Count = 19;

    // Index i names bit i (check order, reference §1.3).
    private static readonly string[] Names =
    [
        "SESSION_GATE_FAILED", "UNDERSTANDING_GATE_FAILED", "CONFIRMATION_GATE_FAILED", "PROMPT_POLICY_GATE_FAILED",
        "POLICY_GATE_FAILED", "TENANT_GATE_FAILED", "GOV_GATE_FAILED", "QUOTA_GATE_FAILED", "WORK_GATE_FAILED",
        "CAPREQ_GATE_FAILED", "GOVERNANCE_CONTRADICTION", "ACCESS_GATE_FAILED", "BLUEPRINT_GATE_FAILED",
        "SIMULATION_GATE_FAILED", "IDEMPOTENCY_GATE_FAILED", "LEASE_GATE_FAILED", "OUTCOME_CLASSIFICATION_GATE_FAILED",
        "OUTCOME_UNRESOLVED_GATE_FAILED", "OPTIONAL_BUDGET_GATE_FAILED",
    ];

    /// <summary>Every guard, in check order.</summary>
    public static IReadOnlyList<string> All => Names;

    /// <summary>How many guards failed.</summary>
    public static int CountOf(OsGuardFailures failures) => BitOperations.PopCount((uint)failures);

    /// <summary>The wire name of exactly one guard flag.</summary>
    public static string NameOf(OsGuardFailures single)
    {
        var bits = (uint)single;
        if (BitOperations.PopCount(bits) != 1 || bits >= 1u << Count)
            throw new ArgumentOutOfRangeException(nameof(single), single, "exactly one guard flag expected");
        return Names[BitOperations.TrailingZeroCount(bits)];
    }

    /// <summary>
    /// Writes the failed guards' names in check order into <paramref name="destination"/> and returns how many it
    /// wrote. Does not allocate (the names are constants). Bits beyond the known guards are ignored.
    /// </summary>
    public static int Write(OsGuardFailures failures, Span<string> destination)
    {
        var written = 0;
        var bits = (uint)failures & ((1u << Count) - 1);
        while (bits != 0)
        {
            destination[written++] = Names[BitOperations.TrailingZeroCount(bits)];
            bits &= bits - 1;
        }
        return written;
    }

    /// <summary>The failed guards' names in check order (allocates; for responses and journals).</summary>
    public static string[] Render(OsGuardFailures failures)
    {
        var names = new string[CountOf(failures & (OsGuardFailures)((1u << Count) - 1))];
        Write(failures, names);
        return names;
    }

    /// <summary>Parses names written by <see cref="Render"/> back into flags; false on an unknown or repeated name.</summary>
    public static bool TryParse(IEnumerable<string> names, out OsGuardFailures failures)
    {
        ArgumentNullException.ThrowIfNull(names);
        failures = OsGuardFailures.None;
        foreach (var name in names)
        {
            var index = Array.IndexOf(Names, name);
            if (index < 0 || (failures & (OsGuardFailures)(1u << index)) != 0) return false;
            failures |= (OsGuardFailures)(1u << index);
        }
        return true;
    }
}
