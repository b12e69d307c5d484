using Selene.Engines.Access;
using Selene.Runtime.Platform;

namespace Selene.Runtime.Access;

/// <summary>
/// PH1.ACCESS as one module, journaling under one engine id. Its two halves keep their parts in their own files:
/// governance (instances, overrides, board policies, votes, escalation cases: <see cref="GovernanceHandlers"/>) and
/// profiles (access profiles, authoring reviews, overlays, compile: <see cref="ProfileHandlers"/>).
/// </summary>
public static class AccessModule
{
    public static EngineModule Module { get; } = new(
        "access", AccessReasons.EngineId,
        [.. GovernanceHandlers.All, .. ProfileHandlers.All],
        [.. GovernanceHandlers.Aggregates, .. ProfileHandlers.Aggregates],
        [.. AccessReasons.All, .. ReasonCodes.Kernel.All.Where(r => r.Engine == AccessReasons.EngineId)],
        [.. GovernanceHandlers.Routes, .. ProfileHandlers.Routes]);
}
