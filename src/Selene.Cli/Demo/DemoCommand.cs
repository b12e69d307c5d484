using System.CommandLine;

namespace Selene.Cli.Demo;

/// <summary>
/// <c>selene demo</c>: runs the whole workforce story on the embedded database (docs/demo.md) and prints its timeline,
/// a line per step with the reason code Selene answered, then where the delivered messages and the journal can be seen.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(Option<string?> dataDirOption)
    {
        var tenant = new Option<string?>("--tenant") { Description = "The demo's tenant id (default: demo, or demo-2, demo-3, … when it exists already)" };
        var demo = new Command("demo",
            "Run the whole story on the embedded database — tenant, company, position and schema, an invite delivered and completed, " +
            "a change for current staff too and its backfill campaign with one holder answering and one reminded — and print its timeline")
        {
            tenant,
        };
        demo.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(tenant) is { } t && !TenantId.IsValid(t))
                return Cli.Fail(ReasonCodes.InputFieldInvalid, "a tenant id is 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit");
            await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
            return await DemoStory.RunAsync(db, Cli.DataDir(parse.GetValue(dataDirOption)), parse.GetValue(tenant), Console.Out, ct);
        });
        return demo;
    }
}
