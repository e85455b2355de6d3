namespace Kgglm.Kernels.Cpu;

/// <summary>
/// Work run over an index range [0, count) that a <see cref="WorkerPool"/> splits into
/// contiguous pieces, one per thread. Subclasses carry their arguments in fields set before
/// each run, so launching a kernel allocates nothing.
/// </summary>
internal abstract class ParallelJob
{
    /// <summary>Processes indices [start, end). Must write only outputs owned by them.</summary>
    public abstract void Execute(int start, int end);
}

/// <summary>
/// A fixed set of dedicated threads that run one <see cref="ParallelJob"/> at a time. Thread i
/// gets [count·i/threads, count·(i+1)/threads); the calling thread takes piece 0. Kernels are
/// written so that the piece boundaries never change a result (threads split outputs, never a
/// reduction), which is what makes every thread count bitwise identical.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _workers;
    private readonly SemaphoreSlim[] _go;
    private readonly CountdownEvent _done;
    private ParallelJob? _job;
    private int _count;
    private Exception? _error;
    private volatile bool _stopping;

    /// <summary>Starts <paramref name="threads"/> - 1 worker threads.</summary>
    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _workers = new Thread[threads - 1];
        _go = new SemaphoreSlim[threads - 1];
        _done = new CountdownEvent(1);

        // Block once (1 ms) so that the event allocates its lock object now rather than the
        // first time a Run has to wait for a worker: that keeps every Run allocation-free.
        _done.Wait(1);
        for (int i = 0; i < _workers.Length; i++)
        {
            int piece = i + 1;
            _go[i] = new SemaphoreSlim(0);
            _workers[i] = new Thread(() => WorkerLoop(piece))
            {
                IsBackground = true,
                Name = $"kgglm-cpu-{piece}",
            };
            _workers[i].Start();
        }
    }

    /// <summary>Number of threads, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="job"/> over [0, count) and waits for every piece.</summary>
    public void Run(ParallelJob job, int count)
    {
        if (count <= 0)
        {
            return;
        }

        if (Threads == 1 || count == 1)
        {
            job.Execute(0, count);
            return;
        }

        _job = job;
        _count = count;
        _error = null;
        _done.Reset(_workers.Length);
        for (int i = 0; i < _go.Length; i++)
        {
            _go[i].Release();
        }

        try
        {
            (int start, int end) = Piece(0, count);
            job.Execute(start, end);
        }
        finally
        {
            _done.Wait();
            _job = null;
        }

        if (_error is { } error)
        {
            throw new InvalidOperationException("a kernel failed on a worker thread", error);
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        _stopping = true;
        foreach (SemaphoreSlim go in _go)
        {
            go.Release();
        }

        foreach (Thread worker in _workers)
        {
            worker.Join();
        }

        foreach (SemaphoreSlim go in _go)
        {
            go.Dispose();
        }

        _done.Dispose();
    }

    private (int Start, int End) Piece(int piece, int count) =>
        ((int)((long)count * piece / Threads), (int)((long)count * (piece + 1) / Threads));

    private void WorkerLoop(int piece)
    {
        SemaphoreSlim go = _go[piece - 1];
        while (true)
        {
            go.Wait();
            if (_stopping)
            {
                return;
            }

            try
            {
                (int start, int end) = Piece(piece, _count);
                if (start < end)
                {
                    _job!.Execute(start, end);
                }
            }
            catch (Exception ex)
            {
                _error = ex;
            }
            finally
            {
                _done.Signal();
            }
        }
    }
}
