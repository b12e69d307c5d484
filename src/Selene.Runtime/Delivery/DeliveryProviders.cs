using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Selene.Engines.Delivery;

namespace Selene.Runtime.Delivery;

/// <summary>
/// What a provider is asked to deliver: one attempt, addressed, at the worker's time (<see cref="Timestamp"/>, ns).
/// The attempt id is the provider's idempotency id (the webhook id, the e-mail's Message-ID, the file's name), so a
/// re-sent attempt is the same message to the receiver.
/// </summary>
public sealed record DeliveryEnvelope(string TenantId, string DeliveryAttemptId, DeliveryChannel Channel, string Address, string MessageId, string RecipientId,
    string PayloadRef, string ContentText, string Classification, long Timestamp)
{
    /// <summary>The message as JSON (the webhook body and the file sink's file): canonical, so the same attempt gives the same bytes at the same time.</summary>
    public JsonObject ToJson() => new()
    {
        ["type"] = "selene.delivery.attempt",
        ["delivery_attempt_id"] = DeliveryAttemptId,
        ["tenant_id"] = TenantId,
        ["channel"] = WireNames.Of(Channel),
        ["address"] = Address,
        ["message_id"] = MessageId,
        ["recipient_id"] = RecipientId,
        ["payload_ref"] = PayloadRef,
        ["content_text"] = ContentText,
        ["classification"] = Classification,
        ["timestamp"] = new UnixNanos(Timestamp).ToString(),
    };
}

/// <summary>A provider's answer to one send.</summary>
public abstract record ProviderAnswer
{
    private ProviderAnswer() { }

    /// <summary>Taken: the provider's own reference (may be empty) and the proof recorded on the attempt.</summary>
    public sealed record Sent(string ProviderMessageRef, string DeliveryProofRef) : ProviderAnswer;

    /// <summary>Not taken: <paramref name="Verdict"/> says whether the same attempt may pass later (Retryable) or never (Rejected).</summary>
    public sealed record Failed(ProviderVerdict Verdict, string Detail) : ProviderAnswer;
}

/// <summary>
/// One delivery provider (issue 12 item 2): the file sink, a webhook (also the gateway of SMS, WhatsApp and WeChat)
/// or SMTP. A provider never throws for the provider's own failures: it answers <see cref="ProviderAnswer.Failed"/>
/// with the verdict of <see cref="DeliveryMapping"/>. It is called by the outbox worker outside any transaction.
/// </summary>
public interface IDeliveryProvider
{
    /// <summary>The reference recorded on the attempts it sends (<c>file</c>, <c>webhook:NAME</c>, <c>smtp:NAME</c>); never a secret.</summary>
    string ProviderRef { get; }

    Task<ProviderAnswer> SendAsync(DeliveryEnvelope envelope, CancellationToken ct);
}

/// <summary>
/// A secret by reference (reference §9: secrets only as handles): <c>env:NAME</c> (an environment variable) or
/// <c>file:/path</c> (a file's content, trimmed). Only the handle is configured or shown; the value is read at send
/// time and goes only to the provider.
/// </summary>
public sealed record SecretHandle(string Handle)
{
    /// <summary>The handle, or null when <paramref name="text"/> is not one (a literal secret is never accepted).</summary>
    public static SecretHandle? TryParse(string? text) =>
        text is not null && ((text.StartsWith("env:", StringComparison.Ordinal) && text.Length > 4) || (text.StartsWith("file:", StringComparison.Ordinal) && text.Length > 5))
            ? new SecretHandle(text) : null;

    /// <summary>The secret's value now, or null (with why) when the variable or file is not there.</summary>
    public string? Resolve(out string problem)
    {
        problem = "";
        string? value;
        if (Handle.StartsWith("env:", StringComparison.Ordinal))
            value = Environment.GetEnvironmentVariable(Handle[4..]);
        else
        {
            try
            {
                value = File.ReadAllText(Handle[5..]).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                value = null;
            }
        }
        if (string.IsNullOrEmpty(value)) problem = $"the secret handle {Handle} resolves to nothing";
        return string.IsNullOrEmpty(value) ? null : value;
    }

    public override string ToString() => Handle;
}

/// <summary>
/// The file sink, the default with nothing configured: one file per attempt under <see cref="Directory"/>, named by
/// the attempt id, written atomically (a temporary file renamed over the name); a re-send overwrites the same file.
/// The proof is the file's name and the SHA-256 of its bytes.
/// </summary>
public sealed class FileSinkProvider(string directory) : IDeliveryProvider
{
    public string Directory { get; } = directory;

    public string ProviderRef => "file";

    public async Task<ProviderAnswer> SendAsync(DeliveryEnvelope envelope, CancellationToken ct)
    {
        var name = envelope.DeliveryAttemptId + ".json";
        var bytes = Encoding.UTF8.GetBytes(envelope.ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var temp = Path.Combine(Directory, $".{name}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.tmp");
            await File.WriteAllBytesAsync(temp, bytes, ct);
            File.Move(temp, Path.Combine(Directory, name), overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A full disk or a missing permission may be fixed; the same attempt is written again then.
            return new ProviderAnswer.Failed(ProviderVerdict.Retryable, $"the file sink could not write {name}: {ex.GetType().Name}");
        }
        return new ProviderAnswer.Sent("file:" + name, $"file:{name}#sha256:{Hashing.Sha256Hex(bytes)}");
    }
}

/// <summary>
/// A webhook (Standard Webhooks): POSTs the envelope's JSON to <see cref="Url"/> with the headers <c>webhook-id</c>
/// (the attempt id), <c>webhook-timestamp</c> (seconds) and <c>webhook-signature</c> (<c>v1,</c> + base64 of the
/// HMAC-SHA256 of <c>id.timestamp.body</c> under the secret, whose <c>whsec_</c> prefix is dropped and the rest
/// base64-decoded). The answer is classified by <see cref="DeliveryMapping.OfHttpStatus"/>.
/// </summary>
public sealed class WebhookProvider(string name, Uri url, SecretHandle secret, HttpClient http) : IDeliveryProvider
{
    public Uri Url { get; } = url;

    public string ProviderRef { get; } = "webhook:" + name;

    /// <summary>The Standard Webhooks signature of one message (<c>v1,</c> + base64 HMAC-SHA256).</summary>
    public static string Sign(byte[] key, string webhookId, long timestampSeconds, string body) =>
        "v1," + Convert.ToBase64String(HMACSHA256.HashData(key,
            Encoding.UTF8.GetBytes($"{webhookId}.{timestampSeconds.ToString(CultureInfo.InvariantCulture)}.{body}")));

    /// <summary>The key bytes of a Standard Webhooks secret (<c>whsec_</c> + base64), or null when it is not one.</summary>
    public static byte[]? KeyOf(string secret)
    {
        var text = secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret;
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) && written > 0 ? buffer[..written] : null;
    }

    public async Task<ProviderAnswer> SendAsync(DeliveryEnvelope envelope, CancellationToken ct)
    {
        if (secret.Resolve(out var problem) is not { } value) return new ProviderAnswer.Failed(ProviderVerdict.Retryable, problem);
        if (KeyOf(value) is not { } key) return new ProviderAnswer.Failed(ProviderVerdict.Retryable, $"the secret behind {secret} is not base64 (whsec_…)");
        var body = envelope.ToJson().ToJsonString();
        var seconds = envelope.Timestamp / 1_000_000_000;
        using var request = new HttpRequestMessage(HttpMethod.Post, Url) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", envelope.DeliveryAttemptId);
        request.Headers.Add("webhook-timestamp", seconds.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", Sign(key, envelope.DeliveryAttemptId, seconds, body));
        try
        {
            using var response = await http.SendAsync(request, ct);
            var status = (int)response.StatusCode;
            var answer = await response.Content.ReadAsByteArrayAsync(ct);
            return DeliveryMapping.OfHttpStatus(status) switch
            {
                ProviderVerdict.Accepted => new ProviderAnswer.Sent(
                    response.Headers.TryGetValues("webhook-message-id", out var ids) ? IdRules.Cut(ids.First(), 256) : "",
                    $"http:{status.ToString(CultureInfo.InvariantCulture)}#sha256:{Hashing.Sha256Hex(answer)}"),
                var verdict => new ProviderAnswer.Failed(verdict, $"{ProviderRef} answered HTTP {status.ToString(CultureInfo.InvariantCulture)}"),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !ct.IsCancellationRequested)
        {
            return new ProviderAnswer.Failed(ProviderVerdict.Retryable, $"{ProviderRef} could not be reached ({ex.GetType().Name})");
        }
    }
}

/// <summary>How an SMTP connection is secured.</summary>
public enum SmtpSecurity
{
    /// <summary>Plain (a relay on the same host).</summary>
    None,
    /// <summary>STARTTLS, required.</summary>
    StartTls,
    /// <summary>TLS from the first byte (port 465).</summary>
    Tls,
}

/// <summary>
/// E-mail through an SMTP server with MailKit: one message per attempt, its Message-ID <c>&lt;attempt id@selene&gt;</c>;
/// the server's reply code is classified by <see cref="DeliveryMapping.OfSmtpReply"/>, and its final reply is the proof.
/// </summary>
public sealed class SmtpProvider(string name, string host, int port, SmtpSecurity security, string from, string? username, SecretHandle? password) : IDeliveryProvider
{
    public string ProviderRef { get; } = "smtp:" + name;

    public async Task<ProviderAnswer> SendAsync(DeliveryEnvelope envelope, CancellationToken ct)
    {
        string? secret = null;
        if (password is not null && (secret = password.Resolve(out var problem)) is null) return new ProviderAnswer.Failed(ProviderVerdict.Retryable, problem);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        if (!MailboxAddress.TryParse(envelope.Address, out var to)) return new ProviderAnswer.Failed(ProviderVerdict.Rejected, "the recipient's e-mail address does not parse");
        message.To.Add(to);
        message.MessageId = envelope.DeliveryAttemptId + "@selene";
        message.Date = DateTimeOffset.FromUnixTimeMilliseconds(envelope.Timestamp / 1_000_000);
        message.Subject = $"Selene {envelope.Classification} message {envelope.MessageId}";
        message.Headers.Add("X-Selene-Delivery-Attempt", envelope.DeliveryAttemptId);
        message.Body = new TextPart("plain") { Text = envelope.ContentText.Length > 0 ? envelope.ContentText : $"Open {envelope.PayloadRef} in Selene." };
        using var client = new SmtpClient { Timeout = 30_000 };
        try
        {
            await client.ConnectAsync(host, port, security switch
            {
                SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
                SmtpSecurity.Tls => SecureSocketOptions.SslOnConnect,
                _ => SecureSocketOptions.None,
            }, ct);
            if (username is not null) await client.AuthenticateAsync(username, secret ?? "", ct);
            var reply = await client.SendAsync(message, ct);
            await client.DisconnectAsync(true, ct);
            return new ProviderAnswer.Sent("<" + message.MessageId + ">", "smtp:" + IdRules.Cut(reply.ReplaceLineEndings(" ").Trim(), 240));
        }
        catch (SmtpCommandException ex)
        {
            return new ProviderAnswer.Failed(DeliveryMapping.OfSmtpReply((int)ex.StatusCode), $"{ProviderRef} replied {((int)ex.StatusCode).ToString(CultureInfo.InvariantCulture)}");
        }
        catch (AuthenticationException)
        {
            return new ProviderAnswer.Failed(ProviderVerdict.Retryable, $"{ProviderRef} refused the credentials");
        }
        catch (Exception ex) when (ex is SmtpProtocolException or IOException or System.Net.Sockets.SocketException or ServiceNotConnectedException or TimeoutException
                                       or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return new ProviderAnswer.Failed(ProviderVerdict.Retryable, $"{ProviderRef} could not be reached ({ex.GetType().Name})");
        }
    }
}

/// <summary>A configuration that cannot be used (the message says what and where); the process does not start with it.</summary>
public sealed class DeliveryConfigException(string message) : Exception(message);

/// <summary>
/// Which provider delivers each channel: configured channels go to their provider; every other channel goes to the file
/// sink under <c>&lt;data dir&gt;/deliveries/</c>. Built once per process from the <c>deliveries</c> section of the
/// configuration file (<see cref="Load"/>), or <see cref="FileSinkOnly"/> with nothing configured.
/// </summary>
public sealed class DeliveryProviders
{
    private readonly IReadOnlyDictionary<DeliveryChannel, IDeliveryProvider> _byChannel;

    public DeliveryProviders(IDeliveryProvider fallback, IReadOnlyDictionary<DeliveryChannel, IDeliveryProvider>? byChannel = null)
    {
        Fallback = fallback;
        _byChannel = byChannel ?? new Dictionary<DeliveryChannel, IDeliveryProvider>();
    }

    /// <summary>The provider of every channel not configured otherwise.</summary>
    public IDeliveryProvider Fallback { get; }

    /// <summary>The provider of one channel.</summary>
    public IDeliveryProvider For(DeliveryChannel channel) => _byChannel.GetValueOrDefault(channel) ?? Fallback;

    /// <summary>The file sink for everything (<c>&lt;data dir&gt;/deliveries/</c>).</summary>
    public static DeliveryProviders FileSinkOnly(string dataDir) => new(new FileSinkProvider(Path.Combine(dataDir, "deliveries")));

    /// <summary>
    /// Reads the <c>deliveries</c> section of a configuration file (JSON):
    /// <code>
    /// { "deliveries": {
    ///     "providers": {
    ///       "hooks": { "type": "webhook", "url": "https://gateway.example/selene", "secret": "env:SELENE_HOOK_SECRET" },
    ///       "mail":  { "type": "smtp", "host": "smtp.example", "port": 587, "security": "START_TLS", "from": "selene@example.com",
    ///                  "username": "selene", "password": "file:/etc/selene/smtp-password" } },
    ///     "channels": { "SMS": "hooks", "WHATSAPP": "hooks", "WECHAT": "hooks", "EMAIL": "mail" } } }
    /// </code>
    /// Secrets are handles only (<see cref="SecretHandle"/>); a file without the section configures nothing (file sink).
    /// </summary>
    public static DeliveryProviders Load(string configPath, string dataDir, HttpClient? http = null)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(configPath));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            throw new DeliveryConfigException($"{configPath}: cannot be read as JSON ({ex.GetType().Name}: {ex.Message})");
        }
        var fallback = new FileSinkProvider(Path.Combine(dataDir, "deliveries"));
        if (root is not JsonObject rootObject) throw new DeliveryConfigException($"{configPath}: the configuration is a JSON object");
        if (rootObject["deliveries"] is null) return new DeliveryProviders(fallback);
        if (rootObject["deliveries"] is not JsonObject section) throw new DeliveryConfigException($"{configPath}: deliveries is an object");
        http ??= new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var providers = new Dictionary<string, IDeliveryProvider>(StringComparer.Ordinal);
        foreach (var (name, node) in section["providers"] as JsonObject ?? [])
        {
            if (!IdRules.IsValidName(name)) throw new DeliveryConfigException($"{configPath}: provider name '{IdRules.Shorten(name)}' is not 1..64 of [A-Za-z0-9_.-]");
            if (node is not JsonObject p) throw new DeliveryConfigException($"{configPath}: provider {name} is an object");
            providers[name] = Text(p, "type") switch
            {
                "file" => new FileSinkProvider(Text(p, "directory", required: false) ?? fallback.Directory),
                "webhook" => new WebhookProvider(name,
                    Uri.TryCreate(Text(p, "url"), UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url
                        : throw new DeliveryConfigException($"{configPath}: provider {name}: url is an absolute http(s) URL"),
                    Handle(p, "secret")!, http),
                "smtp" => new SmtpProvider(name, Text(p, "host")!,
                    int.TryParse(Text(p, "port", required: false) ?? "25", NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536 ? port
                        : throw new DeliveryConfigException($"{configPath}: provider {name}: port is 1..65535"),
                    WireNames.TryParse<SmtpSecurity>(Text(p, "security", required: false) ?? "NONE", out var security) ? security
                        : throw new DeliveryConfigException($"{configPath}: provider {name}: security is NONE, START_TLS or TLS"),
                    MailboxAddress.TryParse(Text(p, "from"), out _) ? Text(p, "from")! : throw new DeliveryConfigException($"{configPath}: provider {name}: from is an e-mail address"),
                    Text(p, "username", required: false), Handle(p, "password", required: p["username"] is not null)),
                var other => throw new DeliveryConfigException($"{configPath}: provider {name}: type '{IdRules.Shorten(other ?? "")}' is file, webhook or smtp"),
            };

            string? Text(JsonObject o, string field, bool required = true) =>
                o[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s
                : o[field] is JsonValue n && n.TryGetValue<int>(out var i) ? i.ToString(CultureInfo.InvariantCulture)
                : required ? throw new DeliveryConfigException($"{configPath}: provider {name}: {field} is required") : null;

            SecretHandle? Handle(JsonObject o, string field, bool required = true) =>
                Text(o, field, required) is not { } text ? null
                : SecretHandle.TryParse(text) ?? throw new DeliveryConfigException(
                    $"{configPath}: provider {name}: {field} must be a secret handle (env:NAME or file:/path), never the secret itself");
        }
        var byChannel = new Dictionary<DeliveryChannel, IDeliveryProvider>();
        foreach (var (channelName, node) in section["channels"] as JsonObject ?? [])
        {
            if (!WireNames.TryParse<DeliveryChannel>(channelName, out var channel))
                throw new DeliveryConfigException($"{configPath}: channel '{IdRules.Shorten(channelName)}' is SMS, EMAIL, WHATSAPP, WECHAT or APP_PUSH");
            var providerName = node is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
            byChannel[channel] = providers.GetValueOrDefault(providerName)
                ?? throw new DeliveryConfigException($"{configPath}: channel {channelName} names no configured provider ('{IdRules.Shorten(providerName)}')");
        }
        return new DeliveryProviders(fallback, byChannel);
    }
}
