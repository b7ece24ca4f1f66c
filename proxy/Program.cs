using Xks.Proxy.Hosting;

return await ProxyCommandLine.RunAsync(args).ConfigureAwait(false);
