namespace Selene.Engines.Position;

/// <summary>
/// Which fields of a requirement schema a person must provide (reference §3.3, §4.1), pure. Other engines do not see
/// POSITION's types: the runtime computes the required keys here and hands them over as facts (LINK's missing fields). A field is required when its rule is
/// ALWAYS, or CONDITIONAL with a predicate <c>[selector.]key=value</c> (or <c>key:value</c>) that holds for the
/// schema's selector snapshot (keys company_size, industry_code, jurisdiction, position_family; values compared
/// exactly). POSITION validated the predicates' shape when the schema was written.
/// </summary>
public static class RequirementRules
{
    /// <summary>The specs that are required under <paramref name="selectors"/>, in the schema's order.</summary>
    public static IReadOnlyList<FieldSpec> Required(IEnumerable<FieldSpec> specs, SchemaSelectors selectors) =>
        specs.Where(s => s.RequiredRule == RequiredRule.Always || s.RequiredPredicateRef is { } p && Holds(p, selectors)).ToArray();

    /// <summary>Whether one predicate holds for the selector snapshot; a selector the snapshot lacks never matches.</summary>
    public static bool Holds(string predicate, SchemaSelectors selectors)
    {
        var text = predicate.StartsWith("selector.", StringComparison.Ordinal) ? predicate["selector.".Length..] : predicate;
        var cut = text.IndexOfAny(['=', ':']);
        if (cut <= 0) return false;
        var actual = text[..cut] switch
        {
            "company_size" => selectors.CompanySize,
            "industry_code" => selectors.IndustryCode,
            "jurisdiction" => selectors.Jurisdiction,
            "position_family" => selectors.PositionFamily,
            _ => null,
        };
        return actual is not null && string.Equals(actual, text[(cut + 1)..], StringComparison.Ordinal);
    }
}
