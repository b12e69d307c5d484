namespace Selene.Contracts.Tests;

public enum AliasedScope
{
    [WireAlias("OnlyNew")]
    OnlyNew,
    Everyone,
}

public sealed class WireNamesTests
{
    [Theory]
    [InlineData("ONLY_NEW", AliasedScope.OnlyNew)]
    [InlineData("OnlyNew", AliasedScope.OnlyNew)]
    [InlineData("EVERYONE", AliasedScope.Everyone)]
    public void TryParse_NameOrDeclaredAlias_Reads(string token, AliasedScope expected)
    {
        Assert.True(WireNames.TryParse<AliasedScope>(token, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("onlynew")]
    [InlineData("ONLYNEW")]
    [InlineData("Everyone")] // no alias declared: only the name
    [InlineData(" ONLY_NEW")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParse_AnythingElse_IsRefused(string? token) =>
        Assert.False(WireNames.TryParse<AliasedScope>(token, out _));

    [Fact]
    public void Of_AlwaysWritesTheName_NeverTheAlias() =>
        Assert.Equal("ONLY_NEW", WireNames.Of(AliasedScope.OnlyNew));
}
