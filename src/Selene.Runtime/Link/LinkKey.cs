using System.Security.Cryptography;
using System.Text;

namespace Selene.Runtime.Link;

/// <summary>
/// The key invite secrets are derived with (docs/decisions.md, "PH1.LINK (issue 11)"). The secret in an invite URL is
/// never stored: it is <c>base64url(HMAC-SHA256(key, tenant_id + "|" + token_id))</c> (43 characters, 256 bits), so any
/// process holding the key can show it again, and the database keeps only its SHA-256 (<see cref="HashOf"/>) in
/// <c>selene.link_token_index</c>. The key is 32 random bytes kept in the data directory (<see cref="LoadOrCreate"/>),
/// never in the database: a copy of the database alone opens no invite.
/// </summary>
public sealed class LinkKey
{
    /// <summary>The key's length in bytes.</summary>
    public const int KeyBytes = 32;

    /// <summary>A secret's length: base64url of 32 bytes without padding.</summary>
    public const int SecretLength = 43;

    /// <summary>The key file's path under a data directory.</summary>
    public static string PathIn(string dataDir) => Path.Combine(dataDir, "secrets", "link.key");

    private readonly byte[] _key;

    /// <summary>A key of exactly <see cref="KeyBytes"/> bytes (tests pass a fixed one).</summary>
    public LinkKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyBytes) throw new ArgumentException($"a link key is {KeyBytes} bytes", nameof(key));
        _key = key.ToArray();
    }

    /// <summary>
    /// The key kept in <paramref name="dataDir"/> (<c>secrets/link.key</c>, mode 0600 in a 0700 directory), created with
    /// 32 random bytes on first use. Two processes starting at once agree: the file is written aside and moved into place
    /// only if none exists, and whoever loses reads the winner's.
    /// </summary>
    public static LinkKey LoadOrCreate(string dataDir)
    {
        var path = PathIn(dataDir);
        if (!File.Exists(path))
        {
            var dir = Path.GetDirectoryName(path)!;
            Directory.CreateDirectory(dir);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new FileStream(temp, options)) file.Write(RandomNumberGenerator.GetBytes(KeyBytes));
            try
            {
                File.Move(temp, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temp);
            }
        }
        var bytes = File.ReadAllBytes(path);
        return bytes.Length == KeyBytes
            ? new LinkKey(bytes)
            : throw new InvalidDataException($"{path} must hold exactly {KeyBytes} bytes (it holds {bytes.Length}); restore it from a backup, or remove it to invalidate every invite link");
    }

    /// <summary>The secret of one token: what the invite URL carries (<c>/invite/&lt;secret&gt;</c>).</summary>
    public string SecretOf(string tenantId, string tokenId)
    {
        var mac = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(tenantId + "|" + tokenId));
        return Convert.ToBase64String(mac).Replace('+', '-').Replace('/', '_').TrimEnd('=');
    }

    /// <summary>What the index keeps of a secret: its SHA-256, lower-case hex.</summary>
    public static string HashOf(string secret) => Hashing.Sha256Hex(secret);

    /// <summary>Whether a text can be a secret at all (43 characters of base64url), checked before any lookup.</summary>
    public static bool IsWellFormedSecret(string? text) =>
        text is { Length: SecretLength } && text.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');
}
