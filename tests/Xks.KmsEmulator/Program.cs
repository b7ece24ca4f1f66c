using Xks.KmsEmulator.Hosting;

return await EmulatorCommandLine.RunAsync(args).ConfigureAwait(false);
