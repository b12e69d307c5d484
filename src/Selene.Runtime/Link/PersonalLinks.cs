using System.Text.RegularExpressions;
using Selene.Engines.Onb;

namespace Selene.Runtime.Link;

/// <summary>
/// Links in messages (docs/decisions.md, "Requirement backfill (issue 13)" and "Governed schema changes and invite
/// delivery (issue 13)"): a backfill target's link and an invite's are derived the same way (<see cref="LinkKey.SecretOf"/>
/// of the tenant and the target or token id) and indexed the same way (their SHA-256 in <c>selene.link_token_index</c>).
/// A message never stores the secret: its text carries a placeholder (<see cref="Placeholder"/>,
/// <see cref="InvitePlaceholder"/>), which DELIVERY expands with the link key at the moment it hands the message to the
/// provider (<see cref="Expand"/>), and only for the message's own recipient (a backfill target's user; an invite's
/// recipient id is its token id).
/// </summary>
public static partial class PersonalLinks
{
    /// <summary>The page of a backfill target's link: <c>/invite/backfill/&lt;secret&gt;</c> (under the invite page's path, so its cookie and log redaction apply).</summary>
    public const string BackfillPathPrefix = "/invite/backfill/";

    [GeneratedRegex(@"\{link:(bfc_[0-9a-f]{16}):([A-Za-z0-9_.-]{1,64})\}|\{invite:(link_[0-9a-f]{16})\}")]
    private static partial Regex PlaceholderPattern();

    /// <summary>The placeholder of a target's link in a message's text.</summary>
    public static string Placeholder(string targetId) => "{link:" + targetId + "}";

    /// <summary>The placeholder of an invite's link (<c>/invite/&lt;secret&gt;</c>) in the text of the message that delivers it.</summary>
    public static string InvitePlaceholder(string tokenId) => "{invite:" + tokenId + "}";

    /// <summary>Whether a text carries a link placeholder at all.</summary>
    public static bool HasPlaceholder(string text) => PlaceholderPattern().IsMatch(text);

    /// <summary>
    /// The text as <paramref name="recipientId"/> receives it: each placeholder of a link of theirs becomes its path;
    /// a placeholder of anyone else's link is left as it is, so no message can carry another person's link.
    /// </summary>
    public static string Expand(string text, string tenantId, string recipientId, LinkKey key) =>
        PlaceholderPattern().Replace(text, m => m.Groups[3].Success
            ? m.Groups[3].Value == recipientId ? LinkModule.InvitePathPrefix + key.SecretOf(tenantId, recipientId) : m.Value
            : m.Groups[2].Value == recipientId
                ? BackfillPathPrefix + key.SecretOf(tenantId, BackfillDecider.TargetId(m.Groups[1].Value, m.Groups[2].Value))
                : m.Value);
}
