using System.Security.Cryptography;

namespace Selene.Runtime.Tests;

public sealed class AuditCheckpointsTests
{
    private static readonly HeadCheckpoint Head = new("acme", 42, new string('b', 64), 1_790_000_000_000_000_000);

    [Fact]
    public void SignedLine_ReadsBackWithThePublicKeyAlone()
    {
        var (privatePem, publicPem) = AuditCheckpoints.NewKeyPair();
        using var signer = AuditCheckpoints.ReadKey(privatePem, requirePrivate: true, out var signerError)!;
        using var verifier = AuditCheckpoints.ReadKey(publicPem, requirePrivate: false, out var verifierError)!;
        Assert.Null(signerError);
        Assert.Null(verifierError);
        var line = AuditCheckpoints.Sign(Head, signer);
        Assert.Equal(Head, AuditCheckpoints.Read(line, verifier, out var error));
        Assert.Null(error);
        Assert.Contains($"\"key_id\":\"{AuditCheckpoints.KeyId(verifier)}\"", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"seq\":\"42\"", "\"seq\":\"41\"")]
    [InlineData("\"tenant_id\":\"acme\"", "\"tenant_id\":\"globex\"")]
    [InlineData("\"at\":\"1790000000000000000\"", "\"at\":\"1790000000000000001\"")]
    public void AlteredLine_DoesNotVerify(string field, string altered)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var line = AuditCheckpoints.Sign(Head, key);
        Assert.Contains(field, line, StringComparison.Ordinal);
        Assert.Null(AuditCheckpoints.Read(line.Replace(field, altered, StringComparison.Ordinal), key, out var error));
        Assert.Contains("the signature does not verify", error, StringComparison.Ordinal);
    }

    [Fact]
    public void LineSignedByAnotherKey_NamesBothKeys()
    {
        using var signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.Null(AuditCheckpoints.Read(AuditCheckpoints.Sign(Head, signer), other, out var error));
        Assert.Equal($"signed by key {AuditCheckpoints.KeyId(signer)}, not by the given public key {AuditCheckpoints.KeyId(other)}", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{\"tenant_id\":\"acme\"}")]
    [InlineData("{\"at\":\"1\",\"head_hash\":\"h\",\"key_id\":\"k\",\"seq\":\"-1\",\"signature\":\"s\",\"tenant_id\":\"acme\"}")]
    [InlineData("{\"at\":1,\"head_hash\":\"h\",\"key_id\":\"k\",\"seq\":\"1\",\"signature\":\"s\",\"tenant_id\":\"acme\"}")]
    public void MalformedLine_IsRefusedWithAReason(string line)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.Null(AuditCheckpoints.Read(line, key, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Keys_ThatCannotSignOrAreNotP256_AreRefused()
    {
        var (_, publicPem) = AuditCheckpoints.NewKeyPair();
        Assert.Null(AuditCheckpoints.ReadKey(publicPem, requirePrivate: true, out var publicError));
        Assert.Equal("the key is a public key; signing needs the private key", publicError);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Assert.Null(AuditCheckpoints.ReadKey(p384.ExportPkcs8PrivateKeyPem(), requirePrivate: true, out var curveError));
        Assert.Equal("the key is not an ECDSA P-256 key", curveError);
        Assert.Null(AuditCheckpoints.ReadKey("-----BEGIN NONSENSE-----", requirePrivate: false, out var pemError));
        Assert.Equal("the file is not a PEM-encoded ECDSA P-256 key", pemError);
    }
}
