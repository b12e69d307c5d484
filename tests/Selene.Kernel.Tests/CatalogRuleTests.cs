using Selene.Engines.CapReq;
using Selene.Kernel.Catalog;

namespace Selene.Kernel.Tests;

/// <summary>The catalog's construction rules (reference §0.2–§0.4, §1.8).</summary>
public sealed class CatalogRuleTests
{
    private static SimulationRecord Sim(string id, string engine = "PH1.CAPREQ", SimulationStatus status = SimulationStatus.Active) =>
        new(id, engine, SimulationType.Commit, status, "CAPREQ_MANAGE", AccessMode.W, "tenant+simulation_id+key", [CapreqReasons.CapreqCreated]);

    private static BlueprintRecord Blueprint(string process, BlueprintStatus status, params SimulationRecord[] steps) =>
        new(process, 1, status, steps.Select(s => new BlueprintStep(s.OwningEngine, s.SimulationId)).ToArray());

    [Fact]
    public void Posture_OfABoundActiveSimulation_IsActiveOnBothGates()
    {
        var sim = Sim("CAPREQ_CREATE_DRAFT");
        var catalog = new SimulationCatalog([sim], [Blueprint("CAPREQ_MANAGE", BlueprintStatus.Active, sim)]);
        var posture = catalog.Posture(sim.SimulationId);
        Assert.True(posture.SimulationActive);
        Assert.True(posture.BlueprintActive);
        Assert.False(posture.Legacy);
    }

    [Fact]
    public void Posture_FollowsBlueprintAndSimulationStatus()
    {
        var disabled = Sim("CAPREQ_DISABLED_COMMIT", status: SimulationStatus.Disabled);
        var draftBound = Sim("CAPREQ_DRAFT_BOUND");
        var catalog = new SimulationCatalog([disabled, draftBound],
            [Blueprint("CAPREQ_MANAGE", BlueprintStatus.Active, disabled), Blueprint("CAPREQ_NEXT", BlueprintStatus.Draft, draftBound)]);
        Assert.False(catalog.Posture(disabled.SimulationId).SimulationActive);
        Assert.True(catalog.Posture(disabled.SimulationId).BlueprintActive);
        Assert.True(catalog.Posture(draftBound.SimulationId).SimulationActive);
        Assert.False(catalog.Posture(draftBound.SimulationId).BlueprintActive);
        Assert.Null(catalog.Posture("NOT_IN_CATALOG").Record);
        Assert.False(catalog.Posture("NOT_IN_CATALOG").SimulationActive);
    }

    [Fact]
    public void AT_OS_16_DeliveryOwnershipDrift_IsRejected()
    {
        // A LINK send id wired as ACTIVE, and a send simulation owned by an engine other than BCAST/DELIVERY, both break §1.8.
        var linkSend = Sim("LINK_INVITE_SEND_COMMIT", "PH1.LINK");
        var remSend = Sim("REMINDER_SEND_COMMIT", "PH1.REM");
        var problems = SimulationCatalog.Validate([linkSend, remSend],
            [Blueprint("LINK_INVITE", BlueprintStatus.Active, linkSend), Blueprint("REMINDER_MANAGE", BlueprintStatus.Active, remSend)]);
        Assert.Contains(problems, p => p.Contains("LINK_INVITE_SEND_COMMIT must be LEGACY_DO_NOT_WIRE", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("REMINDER_SEND_COMMIT delivers to recipients but is owned by PH1.REM", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new SimulationCatalog([linkSend], [Blueprint("LINK_INVITE", BlueprintStatus.Active, linkSend)]));

        var bcastSend = Sim("BCAST_DELIVER_COMMIT", "PH1.BCAST");
        Assert.Empty(SimulationCatalog.Validate([bcastSend], [Blueprint("LINK_DELIVER_INVITE", BlueprintStatus.Active, bcastSend)]));
    }

    [Fact]
    public void DeliveryOwnership_RemTimingRecords_AreREMs_AndNobodyElsesDelivery()
    {
        // REM's §10.3 firings record timing, not a send: PH1.REM may own them, another engine may not.
        var remDue = Sim("REMINDER_DELIVER_DUE_COMMIT", "PH1.REM");
        var remRetry = Sim("REMINDER_DELIVERY_RETRY_SCHEDULE_COMMIT", "PH1.REM");
        Assert.Empty(SimulationCatalog.Validate([remDue, remRetry], [Blueprint("REMINDER_MANAGE", BlueprintStatus.Active, remDue, remRetry)]));
        var linkDue = Sim("REMINDER_DELIVER_DUE_COMMIT", "PH1.LINK");
        Assert.Contains(SimulationCatalog.Validate([linkDue], [Blueprint("REMINDER_MANAGE", BlueprintStatus.Active, linkDue)]),
            p => p.Contains("REMINDER_DELIVER_DUE_COMMIT delivers to recipients but is owned by PH1.LINK", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ActiveBlueprintBindingALegacyId_IsRejected()
    {
        var legacy = Sim("LINK_INVITE_RESEND_COMMIT", "PH1.LINK", SimulationStatus.LegacyDoNotWire);
        var problems = SimulationCatalog.Validate([legacy], [Blueprint("LINK_INVITE", BlueprintStatus.Active, legacy)]);
        Assert.Equal(["ACTIVE blueprint LINK_INVITE binds legacy simulation LINK_INVITE_RESEND_COMMIT"], problems);
    }

    [Fact]
    public void Validate_ReportsEveryStructuralProblem()
    {
        var a = Sim("CAPREQ_A");
        var unbound = Sim("CAPREQ_UNBOUND");
        var problems = SimulationCatalog.Validate([a, a, unbound, Sim("bad-id")],
        [
            Blueprint("CAPREQ_MANAGE", BlueprintStatus.Active, a),
            Blueprint("CAPREQ_OTHER", BlueprintStatus.Active, a),
            new BlueprintRecord("CAPREQ_EMPTY", 0, BlueprintStatus.Active, []),
            new BlueprintRecord("CAPREQ_WRONG", 1, BlueprintStatus.Active, [new BlueprintStep("PH1.POSITION", "CAPREQ_UNBOUND"), new BlueprintStep("PH1.CAPREQ", "MISSING")]),
        ]);
        Assert.Contains("simulation CAPREQ_A is registered twice", problems);
        Assert.Contains("simulation id 'bad-id' is not UPPER_SNAKE", problems);
        Assert.Contains("simulation CAPREQ_A is bound to blueprints CAPREQ_MANAGE and CAPREQ_OTHER", problems);
        Assert.Contains("blueprint CAPREQ_EMPTY has version 0", problems);
        Assert.Contains("blueprint CAPREQ_EMPTY has no steps", problems);
        Assert.Contains("blueprint CAPREQ_WRONG runs CAPREQ_UNBOUND on PH1.POSITION, but PH1.CAPREQ owns it", problems);
        Assert.Contains("blueprint CAPREQ_WRONG names unknown simulation MISSING", problems);
        Assert.Contains("ACTIVE simulation bad-id is bound to no blueprint", problems);
    }
}
