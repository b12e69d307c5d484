using System.Net;
using System.Text.Json.Nodes;
using static Selene.Server.Tests.Capreqs;

namespace Selene.Server.Tests;

/// <summary>Reminders over HTTP (issue 12 item 3): schedule, read one with its occurrences, list, refusals; one tenant's view only.</summary>
[Collection(SeleneServerCollection.Name)]
public class ReminderHttpTests(SeleneServerFixture f)
{
    [Fact]
    public async Task Reminder_ScheduledOverHttp_IsReadableByItsTenantOnly_AndBadTimesAreReasonCoded()
    {
        var scheduled = await f.RunAsync(f.AliceKey, "REMINDER_SCHEDULE_COMMIT", JsonNode.Parse("""
            {"reminder_request_text":"water the plants","desired_time":"in 2 h","user_timezone":"America/New_York","reminder_type":"TASK",
             "recurrence_rule":"FREQ=WEEKLY;BYDAY=MO,TH;COUNT=4","channel_preferences":["PUSH"]}
            """)!.AsObject(), "REMINDER_SCHEDULED");
        var id = scheduled.Json["reminder"]!["reminder_id"]!.GetValue<string>();

        var one = await f.Api.GetAsync(f.AliceKey, $"/v1/reminders/{id}");
        AssertSuccess(one, "QUERY_OK");
        Assert.Equal(("SCHEDULED", "alice", "America/New_York"), (one.Json["reminder"]!["state"]!.GetValue<string>(),
            one.Json["reminder"]!["user_id"]!.GetValue<string>(), one.Json["reminder"]!["user_timezone"]!.GetValue<string>()));
        var occurrence = Assert.Single(one.Json["reminder"]!["occurrences"]!.AsArray())!;
        Assert.Equal(("SCHEDULED", 1), (occurrence["state"]!.GetValue<string>(), occurrence["fire_version"]!.GetValue<int>()));
        Assert.Contains((await f.Api.GetAsync(f.AliceKey, "/v1/reminders?status=SCHEDULED")).Json["reminders"]!.AsArray(),
            r => r!["reminder_id"]!.GetValue<string>() == id);

        // Refusals: an ambiguous time, an unknown zone, a firing asked for by a caller, a bad id, another tenant.
        AssertProblem(await f.Api.SimulateAsync(f.AliceKey, "REMINDER_SCHEDULE_COMMIT", JsonNode.Parse("""
            {"reminder_request_text":"x","desired_time":"sometime","user_timezone":"UTC","reminder_type":"TASK"}
            """)!.AsObject()), HttpStatusCode.BadRequest, "REM_FAIL_TIME_AMBIGUOUS_NEEDS_CONFIRM");
        AssertProblem(await f.Api.SimulateAsync(f.AliceKey, "REMINDER_SCHEDULE_COMMIT", JsonNode.Parse("""
            {"reminder_request_text":"x","desired_time":"in 5 m","user_timezone":"Mars/Olympus","reminder_type":"TASK"}
            """)!.AsObject()), HttpStatusCode.BadRequest, "REM_FAIL_TIMEZONE_INVALID");
        AssertProblem(await f.Api.SimulateAsync(f.AliceKey, "REMINDER_DELIVER_DUE_COMMIT", new JsonObject
            {
                ["reminder_id"] = id, ["occurrence_id"] = occurrence["occurrence_id"]!.GetValue<string>(), ["fire_version"] = 1,
            }),
            HttpStatusCode.Forbidden, "SIMULATION_HANDOFF_ONLY");
        AssertProblem(await f.Api.GetAsync(f.AliceKey, "/v1/reminders/rem_nope"), HttpStatusCode.BadRequest, "QUERY_PARAMETER_INVALID");
        AssertProblem(await f.Api.GetAsync(f.CarolKey, $"/v1/reminders/{id}"), HttpStatusCode.NotFound, "REM_FAIL_NOT_FOUND");
        Assert.Single((await f.Api.GetAsync(f.AliceKey, $"/v1/reminders/{id}")).Json["reminder"]!["occurrences"]!.AsArray());
    }
}
