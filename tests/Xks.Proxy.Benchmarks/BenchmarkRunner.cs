using System.Runtime.InteropServices;
using Xks.Testing;

namespace Xks.Proxy.Benchmarks;

/// <summary>
/// The benchmark: plain HTTP, then TLS, each proxy-versus-baseline, then the software backend against PKCS#11 on
/// SoftHSM2 at several session-pool sizes; prints the report and saves it. Ctrl-C or
/// SIGTERM stops the run, and every child process is killed on the way out.
/// </summary>
internal static class BenchmarkRunner
{
    public static async Task<int> RunAsync()
    {
        BenchmarkSettings settings;
        try
        {
            settings = BenchmarkSettings.FromEnvironment();
        }
        catch (BenchmarkException ex)
        {
            await Console.Error.WriteLineAsync($"bench: {ex.Message}").ConfigureAwait(false);
            return 2;
        }

        using var cancellation = new CancellationTokenSource();
        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true;
            cancellation.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Interrupt);

        var directory = Directory.CreateTempSubdirectory("xks-bench-").FullName;
        var children = new ChildProcesses();
        var keepDirectory = false;
        try
        {
            var certificate = SelfSignedCertificate.WriteServer(directory, "server");
            using var probe = new ProbeClient(certificate.Sha256Fingerprint);
            var wrk = new WrkRunner(children, settings, directory);
            var wrkVersion = await wrk.GetVersionAsync(cancellation.Token).ConfigureAwait(false);
            var credentials = BenchCredentials.Create();
            var driver = new ScenarioDriver(probe, wrk, credentials);
            var phase = new TransportPhase(children, probe, driver, credentials);
            var phases = new List<PhaseResult>();
            if (settings.Phases.Contains(BenchmarkSettings.Http))
            {
                phases.Add(await phase.RunAsync("Plain HTTP", Path.Combine(directory, "http"), null, cancellation.Token).ConfigureAwait(false));
            }

            if (settings.Phases.Contains(BenchmarkSettings.Https))
            {
                phases.Add(await phase.RunAsync("TLS (HTTPS)", Path.Combine(directory, "https"), certificate, cancellation.Token).ConfigureAwait(false));
            }

            BackendPhaseResult? backends = null;
            if (settings.Phases.Contains(BenchmarkSettings.Pkcs11))
            {
                backends = await new BackendPhase(children, probe, driver, credentials)
                    .RunAsync(Path.Combine(directory, "backends"), settings.Pkcs11Pools, cancellation.Token).ConfigureAwait(false);
            }

            var report = BenchmarkReport.Format(settings, wrk.CommandLine, wrkVersion, phases, backends);
            Console.WriteLine();
            Console.Write(report);
            Console.WriteLine();
            Console.WriteLine($"(saved as {BenchmarkReport.Save(report)})");
            return 0;
        }
        catch (BenchmarkException ex)
        {
            keepDirectory = true;
            await Console.Error.WriteLineAsync($"bench: {ex.Message}").ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"bench: configs, scripts and server logs kept in {directory}").ConfigureAwait(false);
            return 1;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("bench: interrupted").ConfigureAwait(false);
            return 130;
        }
        finally
        {
            children.Dispose();
            if (!keepDirectory)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
