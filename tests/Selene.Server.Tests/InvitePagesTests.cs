using System.Collections.Immutable;
using Microsoft.AspNetCore.Http;
using Selene.Engines.Onb;
using Selene.Runtime.Onb;
using Selene.Server.Invite;

namespace Selene.Server.Tests;

/// <summary>
/// The invitee page's renderers (issue 11, item 5): pure functions from ONB sessions built here to HTML. These test what
/// each step renders, not the onboarding flow: one question by its field type, the error beside its field, progress and
/// the remaining steps, terms, document check, device, finishing and the key shown once; everything encoded.
/// </summary>
public class InvitePagesTests
{
    private static readonly InviteForm Form = new("/invite/SECRET-PATH", "form-token-1", "request-1");

    private static readonly OnbQuestion[] Questions =
    [
        new("first_name", OnbFieldType.String, "First name?", "Your first name as on your ID.", false),
        new("start_date", OnbFieldType.Date, "Start date?", "Start date?", false),
        new("hours", OnbFieldType.Integer, "Hours per week?", "", false),
    ];

    private static OnbSession Session(OnbQuestion[]? questions = null, IEnumerable<KeyValuePair<string, string>>? known = null,
        OnbStatus status = OnbStatus.DraftCreated, bool documents = false) => new(
        "acme", "onb_00000000000000aa", "link_00000000000000aa", "draft_00000000000000aa", "EMPLOYEE", "alice",
        "dfp_00000000000000aa", "WEB", "web_app", "nonce", 42, "position:pos_1", "v1", "overlay", "selector:1",
        [.. questions ?? Questions], ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, known ?? []),
        documents ? [OnbGate.PhotoEvidenceCapture, OnbGate.SenderConfirmation] : [], status,
        null, null, null, null, null, false, null, null, null, null, null, "ONB_OK_SESSION_START_DRAFT", 1, 1, 1);

    private static InvitePage Render(OnbSession s, string? terms = null, InviteeFieldError? error = null, string? value = null) =>
        InvitePages.Onboarding(s, OnbDecider.View(s), Form, terms, error, value);

    [Theory]
    [InlineData(OnbFieldType.String, "type=\"text\"")]
    [InlineData(OnbFieldType.Enum, "type=\"text\"")]
    [InlineData(OnbFieldType.Object, "type=\"text\"")]
    [InlineData(OnbFieldType.Date, "type=\"date\"")]
    [InlineData(OnbFieldType.Integer, "type=\"number\" step=\"1\"")]
    [InlineData(OnbFieldType.Decimal, "type=\"number\" step=\"any\"")]
    public void Question_RendersTheInputOfItsFieldType_WithItsLabelBoundToIt(OnbFieldType type, string input)
    {
        var page = Render(Session([new("f", type, "Prompt?", "Long prompt.", false)]));
        Assert.Equal(200, page.Status);
        Assert.Contains($"<input id=\"answer\" name=\"value\" {input}", page.Body, StringComparison.Ordinal);
        Assert.Contains("<label for=\"answer\" id=\"prompt\">Prompt?</label>", page.Body, StringComparison.Ordinal);
        Assert.Contains("<input type=\"hidden\" name=\"field_key\" value=\"f\">", page.Body, StringComparison.Ordinal);
        Assert.Contains("Long prompt.", page.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void Question_IsTheOneNextMissingField_WithItsNumber_AndTheFormCarriesTokenAndRequestId()
    {
        var page = Render(Session(known: [KeyValuePair.Create("first_name", "Dana")]));
        Assert.Contains("Start date?", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("First name?", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("Hours per week?", page.Body, StringComparison.Ordinal);
        Assert.Contains("Question 2 of 3", page.Body, StringComparison.Ordinal);
        Assert.Contains("action=\"/invite/SECRET-PATH\"", page.Body, StringComparison.Ordinal);
        Assert.Contains("name=\"form_token\" value=\"form-token-1\"", page.Body, StringComparison.Ordinal);
        Assert.Contains("name=\"request_id\" value=\"request-1\"", page.Body, StringComparison.Ordinal);
        Assert.Contains("name=\"step\" value=\"answer\"", page.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void AdministratorText_IsEncoded_NeverMarkup()
    {
        var hostile = new OnbQuestion("f\"><b>", OnbFieldType.String, "<script>alert(1)</script>", "<img src=x onerror=alert(2)>", false);
        var page = Render(Session([hostile]), error: new InviteeFieldError("f\"><b>", OnbReasons.OnbAnswerInvalid.Name, "<i>bad</i>"), value: "\"><script>x</script>");
        Assert.DoesNotContain("<script>", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("<i>", page.Body, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", page.Body, StringComparison.Ordinal);
        Assert.Contains("&lt;img src=x onerror=alert(2)&gt;", page.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\"", page.Body, StringComparison.Ordinal);
        // The frame too: the only script element of a document is the page's own, under the nonce.
        var document = InvitePages.Document(page with { Title = "<script>t</script>" }, "n0nce");
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(document, "<script"));
        Assert.Contains("<script nonce=\"n0nce\">", document, StringComparison.Ordinal);
        Assert.Contains("<style nonce=\"n0nce\">", document, StringComparison.Ordinal);
        Assert.Contains("<title>&lt;script&gt;t&lt;/script&gt;</title>", document, StringComparison.Ordinal);
        Assert.Contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">", document, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusedAnswer_IsShownNextToItsField_WithTheValueToCorrect()
    {
        var page = Render(Session(), error: new InviteeFieldError("first_name", OnbReasons.OnbAnswerInvalid.Name, "an answer is 1..256 printable characters"), value: "  ");
        var error = page.Body.IndexOf("id=\"answer-error\"", StringComparison.Ordinal);
        var input = page.Body.IndexOf("<input id=\"answer\"", StringComparison.Ordinal);
        Assert.True(error > page.Body.IndexOf("id=\"prompt\"", StringComparison.Ordinal) && error < input, page.Body);
        Assert.Contains("data-reason=\"ONB_ANSWER_INVALID\">an answer is 1..256 printable characters</p>", page.Body, StringComparison.Ordinal);
        Assert.Contains("aria-invalid=\"true\"", page.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"  \"", page.Body, StringComparison.Ordinal);
        // An error of another field is not shown against this one.
        var other = Render(Session(), error: new InviteeFieldError("hours", OnbReasons.OnbAnswerInvalid.Name, "a whole number"), value: "x");
        Assert.DoesNotContain("answer-error", other.Body, StringComparison.Ordinal);
        Assert.Contains("value=\"\"", other.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusedStep_OrAnAnswerFromAnOutdatedPage_IsShownAboveTheStep()
    {
        // An answer to a field that is no longer the question shown (another tab answered it): above the question, not beside it.
        var stale = Render(Session(known: [KeyValuePair.Create("first_name", "Dana")]),
            error: new InviteeFieldError("first_name", OnbReasons.OnbAnswerInvalid.Name, "<no longer asked>"), value: "Dan");
        Assert.Contains("<p class=\"error\" id=\"step-error\" role=\"alert\" data-reason=\"ONB_ANSWER_INVALID\">That did not go through: &lt;no longer asked&gt;</p>",
            stale.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("answer-error", stale.Body, StringComparison.Ordinal);
        Assert.Contains("Start date?", stale.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("value=\"Dan\"", stale.Body, StringComparison.Ordinal);
        // A refused finish (ACCESS refused the invitee's instance): above the Finish step, whose form stays.
        var all = Questions.Select(q => KeyValuePair.Create(q.FieldKey, "x")).ToArray();
        var finish = Render(Session(known: all, status: OnbStatus.PrimaryDeviceConfirmed),
            error: new InviteeFieldError("complete", OnbReasons.OnbAccessInstanceRefused.Name, "ACCESS refused"));
        var error = finish.Body.IndexOf("id=\"step-error\"", StringComparison.Ordinal);
        Assert.True(error > finish.Body.IndexOf("id=\"steps\"", StringComparison.Ordinal) && error < finish.Body.IndexOf("<form", StringComparison.Ordinal), finish.Body);
        Assert.Contains("data-reason=\"ONB_ACCESS_INSTANCE_REFUSED\"", finish.Body, StringComparison.Ordinal);
        Assert.Contains("name=\"step\" value=\"complete\"", finish.Body, StringComparison.Ordinal);
        // Without an error there is no error paragraph at all.
        Assert.DoesNotContain("class=\"error\"", Render(Session(known: all, status: OnbStatus.PrimaryDeviceConfirmed)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public void Progress_ListsTheSessionsSteps_TheDocumentCheckOnlyWhenGated()
    {
        var plain = InvitePages.Progress(Session(), OnbDecider.View(Session()));
        Assert.Equal(["Questions", "Terms", "Device", "Finish"], StepsOf(plain));
        Assert.Contains("<li class=\"current\" data-step=\"Questions\" aria-current=\"step\">", plain, StringComparison.Ordinal);

        var gated = Session(known: Questions.Select(q => KeyValuePair.Create(q.FieldKey, "x")), status: OnbStatus.TermsAccepted, documents: true);
        var progress = InvitePages.Progress(gated, OnbDecider.View(gated));
        Assert.Equal(["Questions", "Terms", "Evidence", "Device", "Finish"], StepsOf(progress));
        Assert.Contains("<li class=\"done\" data-step=\"Terms\">", progress, StringComparison.Ordinal);
        Assert.Contains("<li class=\"current\" data-step=\"Evidence\" aria-current=\"step\">", progress, StringComparison.Ordinal);
        Assert.Contains("<li class=\"todo\" data-step=\"Device\">", progress, StringComparison.Ordinal);
    }

    private static string[] StepsOf(string progress) =>
        [.. System.Text.RegularExpressions.Regex.Matches(progress, "data-step=\"(\\w+)\"").Select(m => m.Groups[1].Value)];

    [Fact]
    public void EveryNextStep_HasAPageStep_OrIsDone()
    {
        foreach (var next in Enum.GetValues<OnbNextStep>())
            Assert.Equal(next == OnbNextStep.Done, InvitePages.StepOf(next) is null);
    }

    [Fact]
    public void Terms_OfferAcceptAndDecline_OfTheShownVersion()
    {
        var s = Session(known: Questions.Select(q => KeyValuePair.Create(q.FieldKey, "x")));
        var page = Render(s, terms: "terms-2030<1>");
        Assert.Contains("data-step=\"Terms\"", page.Body, StringComparison.Ordinal);
        Assert.Contains("<strong id=\"terms-version\">terms-2030&lt;1&gt;</strong>", page.Body, StringComparison.Ordinal);
        Assert.Contains("name=\"terms_version_id\" value=\"terms-2030&lt;1&gt;\"", page.Body, StringComparison.Ordinal);
        Assert.Contains("name=\"accepted\" value=\"true\"", page.Body, StringComparison.Ordinal);
        Assert.Contains("name=\"accepted\" value=\"false\"", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"answer\"", page.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void DocumentCheck_SaysTheInviterCollectsIt_AndOffersOnlyToCheckAgain()
    {
        var all = Questions.Select(q => KeyValuePair.Create(q.FieldKey, "x")).ToArray();
        foreach (var status in new[] { OnbStatus.TermsAccepted, OnbStatus.VerificationPending })
        {
            var page = Render(Session(known: all, status: status, documents: true));
            Assert.Contains("id=\"evidence\"", page.Body, StringComparison.Ordinal);
            Assert.Contains("name=\"step\" value=\"refresh\"", page.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("type=\"file\"", page.Body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void DeviceAndFinish_AreOneButtonForms()
    {
        var all = Questions.Select(q => KeyValuePair.Create(q.FieldKey, "x")).ToArray();
        var device = Render(Session(known: all, status: OnbStatus.TermsAccepted));
        Assert.Contains("name=\"step\" value=\"device\"", device.Body, StringComparison.Ordinal);
        Assert.Contains("id=\"confirm-device\"", device.Body, StringComparison.Ordinal);
        foreach (var status in new[] { OnbStatus.PrimaryDeviceConfirmed, OnbStatus.AccessInstanceCreated })
        {
            var finish = Render(Session(known: all, status: status));
            Assert.Contains("name=\"step\" value=\"complete\"", finish.Body, StringComparison.Ordinal);
            Assert.Contains("<li class=\"current\" data-step=\"Finish\"", finish.Body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Completion_ShowsTheKeyOnce_AndAReloadShowsNoKey()
    {
        var done = Session(known: Questions.Select(q => KeyValuePair.Create(q.FieldKey, "x")), status: OnbStatus.Complete) with { LastReasonCode = "ONB_OK_COMPLETE_COMMIT" };
        var page = InvitePages.Completed(done, "sk_live_<abc>");
        Assert.Contains("<code class=\"key\" id=\"api-key\">sk_live_&lt;abc&gt;</code>", page.Body, StringComparison.Ordinal);
        Assert.Contains("shown only once", page.Body, StringComparison.Ordinal);
        Assert.Contains("id=\"copy-key\"", page.Body, StringComparison.Ordinal);
        Assert.Equal("ONB_OK_COMPLETE_COMMIT", page.Reason.Name);
        var again = InvitePages.Completed(done, null);
        Assert.Contains("data-state=\"COMPLETE\"", again.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("api-key", again.Body, StringComparison.Ordinal);
        Assert.Equal(again, Render(done));
    }

    [Theory]
    [InlineData(OnbStatus.TermsDeclined, "DECLINED")]
    [InlineData(OnbStatus.VerificationRejected, "REJECTED")]
    public void EndedSessions_SayWhy_AndOfferNoForm(OnbStatus status, string state)
    {
        var page = Render(Session(status: status));
        Assert.Contains($"data-state=\"{state}\"", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("<form", page.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void LinkStates_ShareTheFrame_AndTellNothingOfTheInvite()
    {
        var pages = new[] { InvitePages.NotFound(), InvitePages.Blocked(), InvitePages.Expired(Engines.Link.LinkReasons.LinkTokenExpired),
            InvitePages.Revoked(Engines.Link.LinkReasons.LinkTokenRevoked), InvitePages.Consumed(Engines.Link.LinkReasons.LinkTokenConsumed) };
        Assert.Equal([404, 403, 409, 409, 409], pages.Select(p => p.Status));
        Assert.Equal(["NOT_FOUND", "BLOCKED", "EXPIRED", "REVOKED", "CONSUMED"],
            pages.Select(p => System.Text.RegularExpressions.Regex.Match(p.Body, "data-state=\"(\\w+)\"").Groups[1].Value));
        Assert.All(pages, p => Assert.DoesNotContain("<form", p.Body, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/invite/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde", "/invite/[secret]")]
    [InlineData("/INVITE/whatever", "/invite/[secret]")]
    [InlineData("/v1/invites/link_00000000000000aa/link", "/v1/invites/link_00000000000000aa/link")]
    [InlineData("/healthz", "/healthz")]
    public void LoggedPath_NeverCarriesAnInviteSecret(string path, string logged) =>
        Assert.Equal(logged, InvitePageEndpoints.LoggedPath(new PathString(path)));
}
