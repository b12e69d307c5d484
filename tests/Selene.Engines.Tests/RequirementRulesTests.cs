using Selene.Engines.Position;

namespace Selene.Engines.Tests;

/// <summary>Which schema fields are required under a selector snapshot (reference §3.3).</summary>
public sealed class RequirementRulesTests
{
    private static readonly SchemaSelectors Snapshot = new(CompanySize: "large", Jurisdiction: "DE");

    [Theory]
    [InlineData("jurisdiction=DE", true)]
    [InlineData("selector.jurisdiction=DE", true)]
    [InlineData("jurisdiction:DE", true)]
    [InlineData("jurisdiction=US", false)]
    [InlineData("jurisdiction=de", false)]
    [InlineData("company_size=large", true)]
    [InlineData("industry_code=retail", false)]
    [InlineData("position_family=ops", false)]
    public void Predicate_HoldsExactlyWhenTheSnapshotHasThatValue(string predicate, bool holds) =>
        Assert.Equal(holds, RequirementRules.Holds(predicate, Snapshot));

    [Fact]
    public void Required_IsAlwaysPlusMatchingConditionals_InSchemaOrder()
    {
        FieldSpec Spec(string key, RequiredRule rule, string? predicate = null) =>
            new(key, FieldType.String, rule, Sensitivity.Safe, ExposureRule.Speak, EvidenceMode.UserAnswer, "short", "long", predicate);
        var specs = new[]
        {
            Spec("tax_id", RequiredRule.Conditional, "jurisdiction=DE"),
            Spec("legal_name", RequiredRule.Always),
            Spec("ssn", RequiredRule.Conditional, "jurisdiction=US"),
        };
        Assert.Equal(["tax_id", "legal_name"], RequirementRules.Required(specs, Snapshot).Select(s => s.FieldKey));
    }
}
