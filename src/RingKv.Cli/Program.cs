using RingKv.Cli;

return await RingKvCommandLine.RunAsync(args);
