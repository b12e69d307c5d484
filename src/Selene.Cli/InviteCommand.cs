using System.CommandLine;
using Selene.Runtime.Link;
using Selene.Runtime.Platform;

namespace Selene.Cli;

/// <summary>
/// <c>selene invite link --tenant T --token TOKEN_ID</c>: prints the path of a live invite link, as the administrators'
/// read <c>GET /v1/invites/{token_id}/link</c> answers it, derived from the link key in the data directory. The secret
/// is never stored, so this is how an operator gets a link again.
/// </summary>
internal static class InviteCommand
{
    public static Command Create(Option<string?> dataDirOption)
    {
        var tenant = new Option<string>("--tenant") { Description = "Tenant id", Required = true };
        var token = new Option<string>("--token") { Description = "The invite's token id (link_<16 hex>)", Required = true };
        var link = new Command("link", "Print the path of a live invite link (/invite/<secret>)") { tenant, token };
        link.SetAction(async (parse, ct) =>
        {
            var id = parse.GetValue(tenant)!;
            if (!TenantId.IsValid(id)) return Cli.Fail(ReasonCodes.InputFieldInvalid, "tenant ids are 1..64 characters of [A-Za-z0-9_.-], starting with a letter or digit");
            await using var db = await Cli.OpenAsync(parse.GetValue(dataDirOption), register: true, ct);
            var key = LinkKey.LoadOrCreate(Cli.DataDir(parse.GetValue(dataDirOption)));
            var read = await LinkModule.LinkAsync(new ReadRequest(db, new TenantId(id), new Dictionary<string, string> { ["token_id"] = parse.GetValue(token)! },
                new Dictionary<string, string>(), UnixNanos.FromDateTimeOffset(TimeProvider.System.GetUtcNow()), HandoffServices.None.With(key)), ct);
            if (read is ReadResult.Refused refused) return Cli.Fail(refused.Reason, refused.Detail);
            Console.WriteLine(((ReadResult.Ok)read).Body["link_path"]!.GetValue<string>());
            return 0;
        });
        return new Command("invite", "Invite links") { link };
    }
}
