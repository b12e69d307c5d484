using System.Net;
using System.Text;
using Selene.Engines.Link;
using Selene.Engines.Onb;
using Selene.Runtime.Onb;

namespace Selene.Server.Invite;

/// <summary>
/// One rendered invite page before its frame: the HTTP status, the reason code it answers (shown on the page and sent as
/// <c>X-Reason-Code</c>), its title and its body (already HTML). Invariant: <see cref="Body"/> holds no unencoded
/// caller- or administrator-supplied text; every renderer encodes what it inserts.
/// </summary>
public sealed record InvitePage(int Status, ReasonCode Reason, string Title, string Body);

/// <summary>
/// What a step's form posts back: the page's own path (it carries the secret), the per-page form token that protects the
/// POST against cross-site submission, and the request id that makes a double-submitted form one execution.
/// </summary>
public sealed record InviteForm(string Action, string FormToken, string RequestId);

/// <summary>
/// The invitee's web page (issue 11, item 5), rendered as plain server-side HTML: pure functions from values to text,
/// no clock, no randomness, no I/O (the endpoint passes the CSP nonce, the form token and the request id). Everything
/// inserted is HTML-encoded: prompts come from an administrator's schema and are text, never markup.
/// </summary>
public static class InvitePages
{
    /// <summary>The name of the cookie the page's script keeps the browser's device id in (a copy of localStorage's).</summary>
    public const string DeviceCookie = "selene_device";

    /// <summary>The localStorage key of the browser's device id: the device's durable identity.</summary>
    public const string DeviceStorageKey = "selene.device";

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private const string Style = """
        :root{color-scheme:light dark;--accent:#2457c5;--muted:#666;--bad:#b00020}
        *{box-sizing:border-box}
        body{margin:0;font:18px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        main{max-width:34rem;margin:0 auto;padding:1.25rem}
        h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem}
        label{display:block;font-weight:600;margin:1rem 0 .25rem}
        input,select,button{font:inherit;width:100%;min-height:3rem;padding:.5rem .75rem;border-radius:.5rem}
        input,select{border:1px solid #888}
        button{border:0;background:var(--accent);color:#fff;font-weight:600;margin-top:1rem;cursor:pointer}
        button.secondary{background:transparent;color:var(--accent);border:2px solid var(--accent)}
        .hint,.code,.progress{color:var(--muted);font-size:.9rem}
        .error{color:var(--bad);font-weight:600;margin:.25rem 0}
        ol.steps{padding-left:1.25rem}
        ol.steps li.done{color:var(--muted);text-decoration:line-through}
        ol.steps li.current{font-weight:700}
        code.key{display:block;word-break:break-all;padding:.75rem;border:1px dashed #888;border-radius:.5rem;font-size:1rem}
        """;

    /// <summary>
    /// The device script, on every page: the browser's device id lives in localStorage (made once from
    /// <c>crypto.getRandomValues</c>: 16 bytes, 32 hex characters) and travels in the SameSite=Strict cookie
    /// <see cref="DeviceCookie"/>, so every GET and form POST carries it. When the cookie is missing or differs, the script
    /// sets it and reloads once; when cookies cannot be set it says so instead of looping. A form is sent once: a second
    /// click while the first is under way is dropped, because the browser shows only the last answer and the first
    /// completion's answer carries the key that is never shown again (the request id makes a repeat one execution on the
    /// server either way). The copy button of the completion page is wired here too (the CSP allows no inline handlers).
    /// </summary>
    private const string Script = """
        (function(){
          var key='selene.device', re=/^[0-9a-f]{32}$/;
          function cookie(){var m=document.cookie.match(/(?:^|;\s*)selene_device=([0-9a-f]{32})/);return m?m[1]:null;}
          var id=null;try{id=localStorage.getItem(key);}catch(e){}
          var had=cookie();
          if(!re.test(id||'')){
            id=had||Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)),function(b){return(b+256).toString(16).slice(1);}).join('');
            try{localStorage.setItem(key,id);}catch(e){}
          }
          if(had!==id){
            document.cookie='selene_device='+id+'; path=/invite/; SameSite=Strict'+(location.protocol==='https:'?'; Secure':'');
            if(cookie()===id){location.replace(location.href);return;}
            var note=document.getElementById('device-note');if(note)note.hidden=false;
          }
          Array.prototype.forEach.call(document.forms,function(f){f.addEventListener('submit',function(e){
            if(f.getAttribute('data-sent')){e.preventDefault();return;}f.setAttribute('data-sent','1');});});
          var copy=document.getElementById('copy-key');
          if(copy&&navigator.clipboard){copy.hidden=false;copy.addEventListener('click',function(){
            navigator.clipboard.writeText(document.getElementById('api-key').textContent).then(function(){copy.textContent='Copied';});});}
        })();
        """;

    /// <summary>The whole document of a page: phone viewport, inline style and script under the response's CSP nonce, the reason code at the foot.</summary>
    public static string Document(InvitePage page, string nonce) => $"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer"><meta name="robots" content="noindex, nofollow">
        <title>{E(page.Title)}</title><style nonce="{E(nonce)}">{Style}</style></head>
        <body><main>
        {page.Body}
        <p id="device-note" class="error" hidden>This page keeps this browser as your device with a cookie; allow cookies for this site and reload.</p>
        <p class="code">Code: <span id="reason-code">{E(page.Reason.Name)}</span></p>
        </main><script nonce="{E(nonce)}">{Script}</script></body></html>
        """;

    /// <summary>
    /// The first visit of a browser without a device id: the script makes one and reloads; without JavaScript the page
    /// says what it needs.
    /// </summary>
    public static InvitePage DevicePending() => new(200, ReasonCodes.InvitePageDevicePending, "Opening your invitation",
        """
        <h1>Opening your invitation…</h1>
        <noscript><p class="error">This page needs JavaScript and cookies to keep this browser as your device. Turn them on and reload.</p></noscript>
        """);

    /// <summary>An unknown or malformed secret: the same answer for both, with nothing about why.</summary>
    public static InvitePage NotFound() => new(404, LinkReasons.LinkRefuseNotFound, "Invitation not found",
        """
        <h1 id="state" data-state="NOT_FOUND">This invitation link is not valid</h1>
        <p>Check that you opened the whole link. If it still does not work, ask the person who invited you for a new one.</p>
        """);

    /// <summary>
    /// The link is bound to another browser (a forwarded link): a clear message and nothing about the first device or
    /// the invite.
    /// </summary>
    public static InvitePage Blocked() => new(403, LinkReasons.LinkOkForwardBlockCommit, "Invitation opened elsewhere",
        """
        <h1 id="state" data-state="BLOCKED">This invitation is already in use on another device</h1>
        <p>An invitation works only on the browser that opened it first. If that was not you, tell the person who invited you:
        they can withdraw this link and send you a new one.</p>
        """);

    /// <summary>A link past its expiry (or recovered into a new one).</summary>
    public static InvitePage Expired(ReasonCode reason) => new(Problems.StatusFor(reason), reason, "Invitation expired",
        """
        <h1 id="state" data-state="EXPIRED">This invitation has expired</h1>
        <p>Ask the person who invited you to send you a new link.</p>
        """);

    /// <summary>A withdrawn link.</summary>
    public static InvitePage Revoked(ReasonCode reason) => new(Problems.StatusFor(reason), reason, "Invitation withdrawn",
        """
        <h1 id="state" data-state="REVOKED">This invitation was withdrawn</h1>
        <p>The person who invited you has withdrawn this link. Ask them if you expected to use it.</p>
        """);

    /// <summary>A link that completed an onboarding already.</summary>
    public static InvitePage Consumed(ReasonCode reason) => new(Problems.StatusFor(reason), reason, "Invitation used",
        """
        <h1 id="state" data-state="CONSUMED">This invitation has already been used</h1>
        <p>Onboarding with this link is finished. Sign in with the key you received at the end, or ask the person who invited you.</p>
        """);

    /// <summary>Anything else that stopped the page (storage unavailable, the server's configuration): the code, and to try again later.</summary>
    public static InvitePage Unavailable(ReasonCode reason) => new(Problems.StatusFor(reason), reason, "Try again later",
        """
        <h1 id="state" data-state="UNAVAILABLE">This page cannot be shown right now</h1>
        <p>Please try again in a few minutes. If it keeps happening, tell the person who invited you and quote the code below.</p>
        """);

    /// <summary>A refused form POST (no device, a stale or forged form token, a wrong media type): nothing was changed.</summary>
    public static InvitePage FormRefused(ReasonCode reason) => new(Problems.StatusFor(reason), reason, "Please reload",
        """
        <h1 id="state" data-state="FORM_REFUSED">That did not go through</h1>
        <p>Nothing was changed. Reload the invitation link and try again.</p>
        """);

    /// <summary>The "check again" form of a page that waits (for a document check): it shows the page anew.</summary>
    private static string Refresh(InviteForm form) => FormOpen(form, "refresh") + "<button type=\"submit\" id=\"refresh\" class=\"secondary\">Check again</button></form>";

    /// <summary>The steps of an onboarding in the page's order (docs/decisions.md, "One order of steps").</summary>
    public enum Step
    {
        Questions,
        Terms,
        Evidence,
        Device,
        Finish,
    }

    /// <summary>The step a session's next move belongs to; null when nothing is left.</summary>
    public static Step? StepOf(OnbNextStep next) => next switch
    {
        OnbNextStep.AskMissing => Step.Questions,
        OnbNextStep.Terms => Step.Terms,
        OnbNextStep.PhotoEvidence or OnbNextStep.SenderConfirmation => Step.Evidence,
        OnbNextStep.PrimaryDevice => Step.Device,
        OnbNextStep.AccessInstance or OnbNextStep.Complete => Step.Finish,
        OnbNextStep.Done => null,
        _ => throw new ArgumentOutOfRangeException(nameof(next), next, "a next step without a page step"),
    };

    /// <summary>The steps this session goes through: the evidence step only where the pinned schema requires a document.</summary>
    public static IReadOnlyList<Step> StepsOf(OnbSession session) =>
        [.. Enum.GetValues<Step>().Where(s => s != Step.Evidence || session.RequiredGates.Contains(OnbGate.PhotoEvidenceCapture))];

    private static string StepName(Step step) => step switch
    {
        Step.Questions => "Your details",
        Step.Terms => "Terms",
        Step.Evidence => "Document check",
        Step.Device => "This device",
        Step.Finish => "Finish",
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, null),
    };

    /// <summary>The progress list: every step of the session, the done ones struck through, the current one marked.</summary>
    public static string Progress(OnbSession session, OnbView view)
    {
        var current = StepOf(view.NextStep);
        var sb = new StringBuilder("<ol class=\"steps\" id=\"steps\">");
        foreach (var step in StepsOf(session))
        {
            var state = current is null || step < current ? "done" : step == current ? "current" : "todo";
            sb.Append($"<li class=\"{state}\" data-step=\"{step}\"{(state == "current" ? " aria-current=\"step\"" : "")}>{E(StepName(step))}</li>");
        }
        return sb.Append("</ol>").ToString();
    }

    /// <summary>The hidden fields every step's form carries.</summary>
    private static string FormOpen(InviteForm form, string step) =>
        $"<form method=\"post\" action=\"{E(form.Action)}\"><input type=\"hidden\" name=\"step\" value=\"{E(step)}\">" +
        $"<input type=\"hidden\" name=\"form_token\" value=\"{E(form.FormToken)}\"><input type=\"hidden\" name=\"request_id\" value=\"{E(form.RequestId)}\">";

    /// <summary>The input for a question's type: a date picker, a number (whole or decimal), else text (enum options are not part of a question).</summary>
    public static string Input(OnbQuestion question, string? value, bool invalid)
    {
        var attrs = question.FieldType switch
        {
            OnbFieldType.Date => "type=\"date\"",
            OnbFieldType.Integer => "type=\"number\" step=\"1\" inputmode=\"numeric\"",
            OnbFieldType.Decimal => "type=\"number\" step=\"any\" inputmode=\"decimal\"",
            _ => $"type=\"text\" maxlength=\"{OnbDecider.MaxAnswerLength}\"",
        };
        var described = invalid ? " aria-invalid=\"true\" aria-describedby=\"answer-error answer-hint\"" : " aria-describedby=\"answer-hint\"";
        return $"<input id=\"answer\" name=\"value\" {attrs} required autofocus value=\"{E(value)}\"{described}>";
    }

    private static string Hint(OnbFieldType type) => type switch
    {
        OnbFieldType.Date => "A date, e.g. 1990-04-21.",
        OnbFieldType.Integer => "A whole number.",
        OnbFieldType.Decimal => "A number; use a dot for decimals.",
        OnbFieldType.Enum => "One word, as you were told (letters, digits, . _ -).",
        _ => $"Up to {OnbDecider.MaxAnswerLength} characters.",
    };

    /// <summary>
    /// The page of a live session: progress, then exactly the one thing to do next — the one next question (with the
    /// refused answer and its error next to the field), the terms, the document check, the device, or finishing.
    /// </summary>
    /// <param name="termsVersionId">The terms the invitee accepts or declines (shown on the terms step).</param>
    /// <param name="error">
    /// A refused step's error: next to the field when it is the refused answer to the question shown, else (another step,
    /// or an answer from a page that was out of date) above the step, so no refusal goes unseen.
    /// </param>
    /// <param name="rejectedValue">The refused answer, put back into the field so it can be corrected.</param>
    public static InvitePage Onboarding(OnbSession session, OnbView view, InviteForm form, string? termsVersionId = null,
        InviteeFieldError? error = null, string? rejectedValue = null)
    {
        if (view.NextStep == OnbNextStep.Done) return Ended(session);
        var sb = new StringBuilder();
        sb.Append($"<h1 id=\"state\" data-state=\"ONBOARDING\" data-step=\"{view.NextStep}\">Your onboarding</h1>");
        sb.Append(Progress(session, view));
        var invalid = error is not null && view.NextQuestion?.FieldKey == error.FieldKey;
        if (error is not null && !invalid)
            sb.Append($"<p class=\"error\" id=\"step-error\" role=\"alert\" data-reason=\"{E(error.Code)}\">That did not go through: {E(error.Message)}</p>");
        switch (view.NextStep)
        {
            case OnbNextStep.AskMissing when view.NextQuestion is { } q:
                sb.Append(QuestionForm(q, Math.Min(view.Answered + 1, view.QuestionCount), view.QuestionCount, form, invalid ? error : null, rejectedValue));
                break;
            case OnbNextStep.Terms:
                sb.Append($"<h2>Terms</h2><p>Please read and accept the terms <strong id=\"terms-version\">{E(termsVersionId)}</strong> to continue. Declining ends this onboarding.</p>");
                sb.Append(FormOpen(form, "terms")).Append($"<input type=\"hidden\" name=\"terms_version_id\" value=\"{E(termsVersionId)}\">");
                sb.Append("<button type=\"submit\" name=\"accepted\" value=\"true\" id=\"accept\">I accept the terms</button>");
                sb.Append("<button type=\"submit\" name=\"accepted\" value=\"false\" id=\"decline\" class=\"secondary\">I decline</button></form>");
                break;
            case OnbNextStep.PhotoEvidence:
                sb.Append("<h2>Document check</h2><p id=\"evidence\">Your position needs a document checked. The person who invited you collects a photo of it " +
                          "with you and confirms it; this page goes on once they have.</p>").Append(Refresh(form));
                break;
            case OnbNextStep.SenderConfirmation:
                sb.Append("<h2>Document check</h2><p id=\"evidence\">Your document was sent for checking. This page goes on once it is confirmed.</p>").Append(Refresh(form));
                break;
            case OnbNextStep.PrimaryDevice:
                sb.Append("<h2>This device</h2><p>Confirm that this browser is your device for Selene. The invitation is already bound to it; " +
                          "confirming makes it your primary device.</p>");
                sb.Append(FormOpen(form, "device")).Append("<button type=\"submit\" id=\"confirm-device\">Use this browser as my device</button></form>");
                break;
            default:
                sb.Append("<h2>Finish</h2><p>Everything is ready. Finishing creates your access and shows your key once.</p>");
                sb.Append(FormOpen(form, "complete")).Append("<button type=\"submit\" id=\"finish\">Finish onboarding</button></form>");
                break;
        }
        return new InvitePage(200, ReasonCode(session), "Your onboarding", sb.ToString());
    }

    /// <summary>
    /// One question's form (an invitee's or a backfill target's): "Question n of m", the prompt, the refused answer's error
    /// next to the field with the typed value put back (<paramref name="error"/> is the error of this question or null), the input and its hint.
    /// </summary>
    private static string QuestionForm(OnbQuestion q, int number, int count, InviteForm form, InviteeFieldError? error, string? rejectedValue)
    {
        var invalid = error is not null;
        var sb = new StringBuilder($"<p class=\"progress\" id=\"question-progress\">Question {number} of {count}</p>");
        sb.Append(FormOpen(form, "answer"));
        sb.Append($"<input type=\"hidden\" name=\"field_key\" value=\"{E(q.FieldKey)}\">");
        sb.Append($"<label for=\"answer\" id=\"prompt\">{E(q.PromptShort)}</label>");
        if (!string.IsNullOrEmpty(q.PromptLong) && q.PromptLong != q.PromptShort) sb.Append($"<p class=\"hint\" id=\"prompt-long\">{E(q.PromptLong)}</p>");
        if (invalid) sb.Append($"<p class=\"error\" id=\"answer-error\" role=\"alert\" data-reason=\"{E(error!.Code)}\">{E(error.Message)}</p>");
        sb.Append(Input(q, invalid ? rejectedValue : null, invalid));
        sb.Append($"<p class=\"hint\" id=\"answer-hint\">{E(Hint(q.FieldType))}</p>");
        return sb.Append("<button type=\"submit\">Next</button></form>").ToString();
    }

    /// <summary>
    /// A backfill target's page (docs/backfill.md): the one field asked now, with its progress over the fields the target
    /// misses; a refused answer's error next to the field when it is this field's, else above it.
    /// </summary>
    public static InvitePage BackfillQuestion(BackfillTarget target, OnbQuestion question, InviteForm form, ReasonCode reason, InviteeFieldError? error = null,
        string? rejectedValue = null)
    {
        var sb = new StringBuilder("<h1 id=\"state\" data-state=\"BACKFILL\">Your position's new requirements</h1>");
        sb.Append("<p>Your employer needs a few more details for your position. Answer one question at a time; you can stop and come back with the same link.</p>");
        var own = error is not null && error.FieldKey == question.FieldKey;
        if (error is not null && !own)
            sb.Append($"<p class=\"error\" id=\"step-error\" role=\"alert\" data-reason=\"{E(error.Code)}\">That did not go through: {E(error.Message)}</p>");
        sb.Append(QuestionForm(question, target.Answers.Count + 1, target.Missing.Length, form, own ? error : null, rejectedValue));
        return new InvitePage(200, reason, "Your details", sb.ToString());
    }

    /// <summary>The answer that completed a backfill target: thanks, and that the link is used up now.</summary>
    public static InvitePage BackfillDone(ReasonCode reason) => new(200, reason, "Thank you",
        """
        <h1 id="state" data-state="BACKFILL_COMPLETE">Thank you, that was everything</h1>
        <p>Your answers are recorded. This link has done its job and cannot be used again.</p>
        """);

    /// <summary>A backfill link whose target has ended (answered everything, or no longer asked): used up.</summary>
    public static InvitePage BackfillUsed(ReasonCode reason) => new(Problems.StatusFor(reason), reason, "Link used",
        """
        <h1 id="state" data-state="USED">This link has already been used</h1>
        <p>The questions it asked are closed. If you think something is missing, ask your employer.</p>
        """);

    /// <summary>The session's last reason code, as a code the page can show (its name is what the session recorded).</summary>
    private static ReasonCode ReasonCode(OnbSession session) =>
        OnbReasons.All.FirstOrDefault(r => r.Name == session.LastReasonCode) ?? ReasonCodes.QueryOk;

    /// <summary>A session with nothing left: declined, rejected, or complete (the key was shown once, by <see cref="Completed"/>).</summary>
    private static InvitePage Ended(OnbSession session)
    {
        var (state, title, text) = session.Status switch
        {
            OnbStatus.TermsDeclined => ("DECLINED", "Onboarding ended", "You declined the terms, so this onboarding has ended. If that was a mistake, ask the person who invited you for a new invitation."),
            OnbStatus.VerificationRejected => ("REJECTED", "Onboarding ended", "Your document was not confirmed, so this onboarding has ended. Ask the person who invited you what to do next."),
            _ => ("COMPLETE", "Onboarding complete", "Your onboarding is complete. Use the key you were shown at the end to sign in."),
        };
        return new InvitePage(200, ReasonCode(session), title, $"<h1 id=\"state\" data-state=\"{state}\">{E(title)}</h1><p>{E(text)}</p>");
    }

    /// <summary>
    /// Completion: the new API key shown once, with a copy button and the warning that it is not shown again; without a
    /// key (a reload after the first answer) only that onboarding is complete.
    /// </summary>
    public static InvitePage Completed(OnbSession session, string? apiKey)
    {
        if (apiKey is null) return Ended(session);
        var body = "<h1 id=\"state\" data-state=\"COMPLETE\">Onboarding complete</h1>" +
                   "<p>This is your API key. <strong>Copy it now and keep it safe: it is shown only once.</strong></p>" +
                   $"<code class=\"key\" id=\"api-key\">{E(apiKey)}</code>" +
                   "<button type=\"button\" id=\"copy-key\" class=\"secondary\" hidden>Copy the key</button>" +
                   "<p class=\"hint\">If you lose it, ask your administrator to issue you a new key.</p>";
        return new InvitePage(200, ReasonCode(session), "Onboarding complete", body);
    }
}
