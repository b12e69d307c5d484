namespace Selene.Kernel.Os;

/// <summary>
/// Runtime configuration of PH1.OS (reference §1.5 and §1.6, mvp_v1). The envelope budgets a request may ask for
/// are capped by <see cref="MaxGuardFailures"/>, <see cref="MaxDiagnostics"/> and <see cref="MaxOutcomeEntries"/>;
/// the top-level turn slice plans optional engines within <see cref="MaxOptionalInvocations"/> and
/// <see cref="MaxOptionalLatencyMs"/>, estimating <see cref="OptionalLatencyPerEngineMs"/> per invoked engine.
/// The configuration is trusted (it comes from the runtime, not from a caller) and is not validated.
/// </summary>
/// <param name="OsEnabled">False ⇒ every turn is <c>NotInvokedDisabled</c> (AT-OS-05).</param>
public readonly record struct OsConfig(
    bool OsEnabled,
    byte MaxGuardFailures,
    byte MaxDiagnostics,
    ushort MaxOutcomeEntries,
    byte MaxOptionalInvocations,
    uint MaxOptionalLatencyMs,
    uint OptionalLatencyPerEngineMs)
{
    /// <summary>The mvp_v1 configuration: enabled, 8 guard failures, 8 diagnostics, 128 outcome rows, 8 optional
    /// invocations, 120 ms optional latency at 20 ms per engine.</summary>
    public static OsConfig Mvp { get; } = new(true, 8, 8, 128, 8, 120, 20);
}
