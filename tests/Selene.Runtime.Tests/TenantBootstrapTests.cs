using Selene.Kernel.Access;
using Selene.Postgres.Stores;
using Selene.Runtime.Access;

namespace Selene.Runtime.Tests;

public sealed class TenantBootstrapTests(RuntimeFixture f) : IClassFixture<RuntimeFixture>
{
    [Fact]
    public async Task Create_MakesAnAdministratorWithFullAuthority_AndRefusesASecondCreate()
    {
        var bootstrap = new TenantBootstrap(f.Db, TimeProvider.System);
        var created = await bootstrap.CreateAsync(new TenantId("initech"), new UserId("peter"));
        Assert.True(created.Created);
        var resolved = await KeyStore.ResolveAsync(f.Db, created.AdminKey!, default);
        Assert.Equal(("initech", "peter"), (resolved!.Value.Tenant.Value, resolved.Value.User.Value));

        var check = new AccessCheck(f.Db, TimeProvider.System);
        var allow = await check.CheckAsync(new TenantId("initech"), new UserId("peter"), "CAPREQ_MANAGE", AccessMode.X);
        Assert.Equal(AccessDecisionKind.Allow, allow.Decision);
        Assert.Equal(ReasonCodes.AccessAllowed, allow.Reason);
        Assert.Equal(9, allow.Step);

        var nobody = await check.CheckAsync(new TenantId("initech"), new UserId("milton"), "CAPREQ_MANAGE", AccessMode.R);
        Assert.Equal(AccessDecisionKind.Deny, nobody.Decision);
        Assert.Equal(ReasonCodes.AccessInstanceMissing, nobody.Reason);

        // Another tenant's administrator has no authority here.
        var foreign = await check.CheckAsync(new TenantId("acme"), new UserId("peter"), "CAPREQ_MANAGE", AccessMode.R);
        Assert.Equal(ReasonCodes.AccessInstanceMissing, foreign.Reason);

        var again = await bootstrap.CreateAsync(new TenantId("initech"), new UserId("bill"));
        Assert.False(again.Created);
        Assert.Equal(ReasonCodes.TenantExists, again.Reason);
        Assert.Equal(1, await f.CountAsync("initech", "access_instance_current"));
        Assert.Equal(1, await f.CountAsync("initech", "journal", "event_type = 'ACCESS_INSTANCE_UPSERT_COMMIT'"));
        Assert.True(Assert.Single(await f.Maintenance.VerifyJournalAsync("initech")).Intact);
    }
}
