namespace Selene.Contracts;

/// <summary>Access modes, ranked R &lt; W &lt; A &lt; X (reference §7.1).</summary>
public enum AccessMode
{
    /// <summary>Read.</summary>
    R = 1,
    /// <summary>Write.</summary>
    W = 2,
    /// <summary>Approve.</summary>
    A = 3,
    /// <summary>Execute / administer.</summary>
    X = 4,
}
