using Selene.Runtime.Platform;

namespace Selene.Runtime.Access;

/// <summary>
/// PH1.ACCESS (governance and profiles) as a module. Not yet on the platform's pipeline and store: its handlers,
/// stores and read routes are still its own (the server maps its routes), so it declares no aggregates and no
/// routes here yet.
/// </summary>
public static class AccessModule
{
    public static EngineModule Module { get; } = new(
        "access", ReasonCodes.EngineAccess, [.. GovernanceHandlers.All, .. ProfileHandlers.All], [],
        ReasonCodes.All.Where(r => r.Engine == ReasonCodes.EngineAccess).ToArray(), []);
}
