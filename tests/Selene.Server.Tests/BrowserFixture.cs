using Microsoft.Playwright;

namespace Selene.Server.Tests;

/// <summary>
/// One headless Chromium per test class (Playwright for .NET driving Debian's <c>chromium</c> package, launched by path:
/// Playwright's own browser download is not used). Each test takes a fresh context from <see cref="NewDeviceAsync"/>: its
/// own cookies and localStorage, so each context is one "device" of an invitee. The browser is found at
/// <c>SELENE_CHROMIUM</c> when set, else <c>/usr/bin/chromium</c> (.ci/run installs the package when it is missing); a
/// missing browser fails the tests, it never skips them.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The Chromium executable the tests launch.</summary>
    public static string ChromiumPath => Environment.GetEnvironmentVariable("SELENE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"Chromium is missing at {ChromiumPath}: install Debian's chromium package (.ci/run does) or set SELENE_CHROMIUM");
        _playwright = await Playwright.CreateAsync();
        // --no-sandbox: CI runs as root, where Chromium refuses its sandbox; the pages under test are our own.
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>A fresh browser context (a new device: empty cookies and localStorage) at a phone's viewport.</summary>
    /// <param name="javaScript">False: a browser with JavaScript turned off.</param>
    public async Task<IBrowserContext> NewDeviceAsync(Uri baseAddress, bool javaScript = true)
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 390, Height = 844 },
            IsMobile = true,
            HasTouch = true,
            JavaScriptEnabled = javaScript,
        });
        // Auto-waiting assertions poll up to this long; nothing in a test sleeps.
        context.SetDefaultTimeout(15_000);
        return context;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
    }
}
