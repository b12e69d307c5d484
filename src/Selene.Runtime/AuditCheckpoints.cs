using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Selene.Runtime;

/// <summary>
/// A tenant's journal head at a moment: the chain had <paramref name="Seq"/> entries, the last one hashing to
/// <paramref name="HeadHash"/>, at <paramref name="At"/> (nanoseconds since the Unix epoch). Signed with a key no
/// database role holds (<see cref="AuditCheckpoints"/>), it anchors the chain: a head moved back below it, or an entry
/// rewritten at or before it, is caught by <c>selene audit verify --checkpoints</c>.
/// </summary>
public sealed record HeadCheckpoint(string TenantId, long Seq, string HeadHash, long At);

/// <summary>
/// Signed head checkpoints (issue 15): one JSON line per checkpoint, signed with ECDSA P-256 over SHA-256 (Ed25519,
/// which the issue names beside HMAC, is not in .NET's library; ECDSA keeps the verifying half public, which an HMAC
/// key would not). The line names the signing key by <see cref="KeyId"/>; keys are PEM files kept outside the database.
/// </summary>
public static class AuditCheckpoints
{
    /// <summary>A new key pair: the private key (PKCS#8 PEM) signs, the public key (SubjectPublicKeyInfo PEM) verifies.</summary>
    public static (string PrivatePem, string PublicPem) NewKeyPair()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (key.ExportPkcs8PrivateKeyPem(), key.ExportSubjectPublicKeyInfoPem());
    }

    /// <summary>Reads a PEM key of the curve the checkpoints use; null with <paramref name="error"/> when the text is not one.</summary>
    public static ECDsa? ReadKey(string pem, bool requirePrivate, out string? error)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            error = key.KeySize != 256 ? "the key is not an ECDSA P-256 key" : null;
            if (error is null && requirePrivate)
            {
                try { key.ExportECPrivateKey(); }
                catch (CryptographicException) { error = "the key is a public key; signing needs the private key"; }
            }
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            error = "the file is not a PEM-encoded ECDSA P-256 key";
        }
        if (error is null) return key;
        key.Dispose();
        return null;
    }

    /// <summary>The key's name in a checkpoint line: the first 16 hex digits of the SHA-256 of its public key.</summary>
    public static string KeyId(ECDsa key) => Hashing.Sha256Hex(key.ExportSubjectPublicKeyInfo())[..16];

    /// <summary>The checkpoint as one signed JSON line (without the line break).</summary>
    public static string Sign(HeadCheckpoint c, ECDsa privateKey)
    {
        var fields = Fields(c, KeyId(privateKey));
        fields["signature"] = Convert.ToBase64String(privateKey.SignData(CanonicalJson.Serialize(fields), HashAlgorithmName.SHA256));
        return CanonicalJson.SerializeToString(fields);
    }

    /// <summary>Reads and verifies one line against <paramref name="publicKey"/>; null with <paramref name="error"/> when it does not hold.</summary>
    public static HeadCheckpoint? Read(string line, ECDsa publicKey, out string? error)
    {
        error = null;
        Dictionary<string, string>? fields;
        try { fields = JsonSerializer.Deserialize<Dictionary<string, string>>(line); }
        catch (JsonException) { fields = null; }
        string[] names = ["at", "head_hash", "key_id", "seq", "signature", "tenant_id"];
        if (fields is null || fields.Count != names.Length || names.Any(n => !fields.ContainsKey(n)))
        {
            error = $"not a checkpoint line (a JSON object of {string.Join(", ", names)})";
            return null;
        }
        if (!long.TryParse(fields["seq"], NumberStyles.None, CultureInfo.InvariantCulture, out var seq) ||
            !long.TryParse(fields["at"], NumberStyles.None, CultureInfo.InvariantCulture, out var at))
        {
            error = "seq and at must be whole numbers";
            return null;
        }
        var checkpoint = new HeadCheckpoint(fields["tenant_id"], seq, fields["head_hash"], at);
        if (fields["key_id"] != KeyId(publicKey))
        {
            error = $"signed by key {IdRules.Shorten(fields["key_id"])}, not by the given public key {KeyId(publicKey)}";
            return null;
        }
        byte[] signature;
        try { signature = Convert.FromBase64String(fields["signature"]); }
        catch (FormatException) { signature = []; }
        if (!publicKey.VerifyData(CanonicalJson.Serialize(Fields(checkpoint, fields["key_id"])), signature, HashAlgorithmName.SHA256))
        {
            error = "the signature does not verify: the line was altered or not signed by this key";
            return null;
        }
        return checkpoint;
    }

    private static SortedDictionary<string, string> Fields(HeadCheckpoint c, string keyId) => new(StringComparer.Ordinal)
    {
        ["tenant_id"] = c.TenantId,
        ["seq"] = c.Seq.ToString(CultureInfo.InvariantCulture),
        ["head_hash"] = c.HeadHash,
        ["at"] = c.At.ToString(CultureInfo.InvariantCulture),
        ["key_id"] = keyId,
    };
}
