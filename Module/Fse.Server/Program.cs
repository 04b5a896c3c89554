using Fse.Server;

return await ServerMain.RunAsync(args).ConfigureAwait(false);
