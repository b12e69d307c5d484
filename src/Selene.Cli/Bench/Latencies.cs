using System.Diagnostics;

namespace Selene.Cli.Bench;

/// <summary>
/// One client's latencies, in <see cref="Stopwatch"/> ticks, kept exactly (no buckets): appended to preallocated
/// chunks, so recording never copies and allocates once per <see cref="ChunkSize"/> samples. A recorder belongs to
/// one client task; it is not thread-safe.
/// </summary>
public sealed class LatencyRecorder
{
    /// <summary>Samples per chunk (128 KiB of longs).</summary>
    public const int ChunkSize = 16 * 1024;

    private readonly List<long[]> _chunks = [new long[ChunkSize]];
    private int _used;

    /// <summary>How many samples were recorded.</summary>
    public long Count { get; private set; }

    public void Record(long ticks)
    {
        if (_used == ChunkSize)
        {
            _chunks.Add(new long[ChunkSize]);
            _used = 0;
        }
        _chunks[^1][_used++] = ticks;
        Count++;
    }

    /// <summary>Copies every sample into <paramref name="destination"/> starting at <paramref name="offset"/>; returns the next offset.</summary>
    public int CopyTo(long[] destination, int offset)
    {
        for (var i = 0; i < _chunks.Count; i++)
        {
            var length = i == _chunks.Count - 1 ? _used : ChunkSize;
            Array.Copy(_chunks[i], 0, destination, offset, length);
            offset += length;
        }
        return offset;
    }
}

/// <summary>Latency figures of a run, in milliseconds; percentiles by the nearest-rank method.</summary>
public sealed record LatencySummary(long Count, double MeanMs, double P50Ms, double P95Ms, double P99Ms, double MaxMs)
{
    /// <summary>Merges the recorders of every client and summarises them (all zero when nothing was recorded).</summary>
    public static LatencySummary From(IEnumerable<LatencyRecorder> recorders)
    {
        var list = recorders.ToList();
        var all = new long[checked((int)list.Sum(r => r.Count))];
        var offset = 0;
        foreach (var r in list) offset = r.CopyTo(all, offset);
        if (all.Length == 0) return new LatencySummary(0, 0, 0, 0, 0, 0);
        Array.Sort(all);
        return new LatencySummary(all.Length, Ms(all.Average(t => (double)t)),
            Ms(Percentiles.NearestRank(all, 50)), Ms(Percentiles.NearestRank(all, 95)), Ms(Percentiles.NearestRank(all, 99)), Ms(all[^1]));
    }

    private static double Ms(double ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}

/// <summary>Percentiles of sorted samples.</summary>
public static class Percentiles
{
    /// <summary>
    /// The nearest-rank percentile: the smallest sample such that at least <paramref name="percentile"/> % of the
    /// samples are less than or equal to it, i.e. <c>sorted[ceil(p/100 · n) − 1]</c> (and <c>sorted[0]</c> for p = 0).
    /// Always one of the samples, never interpolated.
    /// </summary>
    /// <param name="sorted">Samples in ascending order; at least one.</param>
    /// <param name="percentile">0..100.</param>
    public static long NearestRank(ReadOnlySpan<long> sorted, double percentile)
    {
        if (sorted.IsEmpty) throw new ArgumentException("no samples", nameof(sorted));
        if (percentile is < 0 or > 100 || double.IsNaN(percentile)) throw new ArgumentOutOfRangeException(nameof(percentile), "0..100");
        // Decimal keeps p/100·n exact for the usual inputs (0.95 · 100 is 95, not 95.00000000000001 ⇒ 96).
        var rank = (long)Math.Ceiling((decimal)percentile / 100m * sorted.Length);
        return sorted[(int)Math.Max(rank, 1) - 1];
    }
}
