using System.Net;
using Microsoft.Extensions.Time.Testing;
using Selene.Contracts;
using Selene.Postgres;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>
/// The server takes its clock from the host (issue 9 item 4): an in-process server on a <see cref="FakeTimeProvider"/>,
/// on the shared fixture's cluster, stamps what it writes with the fake time, not the machine's.
/// </summary>
[Collection(SeleneServerCollection.Name)]
public class HostClockTests(SeleneServerFixture f)
{
    [Fact]
    public async Task ServerOnAFakeClock_StampsCapreqAndJournalWithTheFakeTime()
    {
        var start = new DateTimeOffset(2031, 2, 3, 4, 5, 6, TimeSpan.Zero);
        var clock = new FakeTimeProvider(start);
        var (_, key) = await f.OwnTenantAsync("clock");
        await using var db = await SeleneDatabase.OpenAsync(new DatabaseOptions(null, f.DataDir));
        var address = new Uri($"http://127.0.0.1:{SeleneServerFixture.FreePort()}");
        await using var app = SeleneApp.Build(db, new ServerOptions(address.ToString().TrimEnd('/')), clock: clock);
        await app.StartAsync();
        try
        {
            using var api = new SeleneApi(address);
            var created = await api.SimulateAsync(key, Create, NewDraft());
            AssertSuccess(created, "CAPREQ_OK_CREATE_DRAFT");
            Assert.Equal(UnixNanos.FromDateTimeOffset(start).ToString(), created.Capreq["created_at"]!.GetValue<string>());

            clock.Advance(TimeSpan.FromHours(5));
            var capreqId = created.Capreq["capreq_id"]!.GetValue<string>();
            var submitted = await api.SimulateAsync(key, Submit, On(capreqId));
            AssertSuccess(submitted, "CAPREQ_OK_SUBMIT_FOR_APPROVAL");
            var read = await api.GetCapreqAsync(key, capreqId);
            Assert.Equal(HttpStatusCode.OK, read.Status);
            Assert.Equal(UnixNanos.FromDateTimeOffset(start).ToString(), read.Capreq["created_at"]!.GetValue<string>());
            Assert.Equal(UnixNanos.FromDateTimeOffset(start.AddHours(5)).ToString(), read.Capreq["updated_at"]!.GetValue<string>());

            // The journal entries of the submit carry the advanced fake time too.
            var entries = await api.JournalAsync(key, submitted.Json["correlation_id"]!.GetValue<string>());
            Assert.NotEmpty(entries);
            Assert.All(entries, e => Assert.Equal(UnixNanos.FromDateTimeOffset(start.AddHours(5)).ToString(), e!["created_at"]!.GetValue<string>()));
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
