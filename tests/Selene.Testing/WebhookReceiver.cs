using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Selene.Testing;

/// <summary>One POST a <see cref="WebhookReceiver"/> got: the Standard Webhooks headers, the body, the status it answered and the path it was sent to.</summary>
public sealed record WebhookRequest(string Id, string Timestamp, string Signature, string ContentType, string Body, int Status, string Path = "");

/// <summary>
/// A real HTTP receiver on 127.0.0.1 for the delivery tests: records every POST with its Standard Webhooks headers and
/// answers what <see cref="Answer"/> says (it may also act before answering, e.g. kill the sender). Answering 2xx to
/// a webhook id it answered 2xx before is what a deduplicating receiver does: <see cref="Delivered"/> counts each id once.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly List<WebhookRequest> _received = [];
    private readonly Task _loop;

    private WebhookReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = new Uri($"http://127.0.0.1:{port}/hook/");
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Where it listens.</summary>
    public Uri Url { get; }

    /// <summary>The status to answer a request with (default 200); called once per request, before answering.</summary>
    public Func<WebhookRequest, Task<int>> Answer { get; set; } = _ => Task.FromResult(200);

    /// <summary>Every request, in arrival order, with the status it was answered (0: the receiver never answered).</summary>
    public IReadOnlyList<WebhookRequest> Received
    {
        get
        {
            lock (_received) return _received.ToArray();
        }
    }

    /// <summary>The webhook ids answered 2xx, each once: what a deduplicating receiver processed.</summary>
    public IReadOnlyList<string> Delivered => Received.Where(r => r.Status is >= 200 and <= 299).Select(r => r.Id).Distinct().ToArray();

    public static WebhookReceiver Start() => new();

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var request = new WebhookRequest(context.Request.Headers["webhook-id"] ?? "", context.Request.Headers["webhook-timestamp"] ?? "",
                context.Request.Headers["webhook-signature"] ?? "", context.Request.ContentType ?? "", body, 0, context.Request.Url?.AbsolutePath ?? "");
            int status;
            try
            {
                status = await Answer(request);
            }
            catch (Exception)
            {
                status = 500;
            }
            // Recorded before the answer is sent: a sender that got its answer must find its request here.
            int index;
            lock (_received)
            {
                _received.Add(request with { Status = status });
                index = _received.Count - 1;
            }
            try
            {
                context.Response.StatusCode = status;
                context.Response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
            {
                // The sender is gone (killed before the answer): the answer never reached it.
                lock (_received) _received[index] = request with { Status = 0 };
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // On Linux, Close after Stop can report "Address already in use" while it unregisters a prefix whose port
            // another test's listener took in between; the listener is stopped either way, nothing is left to release.
        }
        await _loop;
    }
}
