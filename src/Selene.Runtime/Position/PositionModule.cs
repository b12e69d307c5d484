using Selene.Runtime.Platform;

namespace Selene.Runtime.Position;

/// <summary>
/// PH1.POSITION as a module. Not yet on the platform's pipeline and store: its handlers, store and read routes are
/// still its own (the server maps its routes), so it declares no aggregates and no routes here yet.
/// </summary>
public static class PositionModule
{
    public static EngineModule Module { get; } = new(
        "position", ReasonCodes.EnginePosition, PositionHandlers.All, [],
        ReasonCodes.All.Where(r => r.Engine == ReasonCodes.EnginePosition).ToArray(), []);
}
