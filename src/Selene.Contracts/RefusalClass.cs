namespace Selene.Contracts;

/// <summary>
/// Whether a refusal is a failure (something went wrong: storage unavailable, a provider that did not answer, a broken
/// invariant) or a policy decision (a guard, gate, access rule, governance switch or state machine said no), as the
/// learning loop reads it (issue 15 item 2, the seed's "semantics split"). The table and its reasons are in
/// docs/decisions.md, "Failure and policy reason codes (issue 15)".
/// </summary>
public enum RefusalClass
{
    /// <summary>Something went wrong; the same request may pass once it is mended. Journal field <c>failure_reason_code</c>.</summary>
    Failure,
    /// <summary>A rule said no; the request passes only when the facts change. Journal field <c>policy_reason_code</c>.</summary>
    Policy,
}

/// <summary>
/// The one classification of reason codes into failure and policy, from the code's <see cref="ReasonKind"/> alone, and
/// the two journal payload fields it writes. A journal entry whose reason code is not a success is a refusal and carries
/// exactly one of the two fields (<see cref="Annotate"/>); a success carries neither. Pure.
/// </summary>
public static class RefusalClassification
{
    /// <summary>The payload key naming a refusal's failure code.</summary>
    public const string FailureField = "failure_reason_code";

    /// <summary>The payload key naming a refusal's policy code.</summary>
    public const string PolicyField = "policy_reason_code";

    /// <summary>
    /// The class of a kind, null for <see cref="ReasonKind.Success"/> (not a refusal). Throws for a kind this table does
    /// not know, so a new <see cref="ReasonKind"/> fails the registry test until it is classified here and in the docs.
    /// </summary>
    public static RefusalClass? Of(ReasonKind kind) => kind switch
    {
        ReasonKind.Success => null,
        // The caller's request, its identity or the state it met was judged by a rule: a policy decision.
        ReasonKind.Invalid or ReasonKind.Unauthenticated or ReasonKind.Forbidden or ReasonKind.NotFound or ReasonKind.MethodNotAllowed
            or ReasonKind.Conflict or ReasonKind.TooLarge or ReasonKind.UnsupportedMediaType or ReasonKind.QuotaExceeded => RefusalClass.Policy,
        // Selene or what it depends on could not do its part: a failure.
        ReasonKind.Unavailable or ReasonKind.Internal => RefusalClass.Failure,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "a reason kind with no failure/policy class (RefusalClassification.Of)"),
    };

    /// <summary>The class of a code (by its kind); null for a success.</summary>
    public static RefusalClass? Of(ReasonCode code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return Of(code.Kind);
    }

    /// <summary>The journal payload field a refusal of this class is named in.</summary>
    public static string FieldOf(RefusalClass refusal) => refusal == RefusalClass.Failure ? FailureField : PolicyField;

    /// <summary>
    /// The payload a journal entry is recorded with: for a refusal (a reason that is not a success) the given payload with
    /// <c>failure_reason_code</c> or <c>policy_reason_code</c> = <paramref name="refusal"/>'s name beside what it holds;
    /// for a success the payload unchanged. The added field counts toward the payload's bounds, which cut the caller's
    /// longest values if needed (<see cref="JournalPayload.Create(IEnumerable{KeyValuePair{string, string}})"/>).
    /// </summary>
    /// <param name="refusal">The code the entry refuses for: its own reason code, or what a success-coded entry records as refused (a deferral's cause).</param>
    public static JournalPayload Annotate(JournalPayload payload, ReasonCode refusal)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (Of(refusal) is not { } refusalClass) return payload;
        return JournalPayload.Create(payload.Entries.Append(KeyValuePair.Create(FieldOf(refusalClass), refusal.Name)));
    }
}
