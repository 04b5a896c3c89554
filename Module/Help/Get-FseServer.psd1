@{
    Synopsis    = 'Lists the servers this session started or attached to.'
    Description = @'
Get-FseServer returns the FseServer handles of the servers Start-FseServer started or attached to in this PowerShell session, in the order they were started, with their current Status: Running, Exited (the process ended by itself; ExitCode and LogPath say why) or Attached. Stop-FseServer removes a server from the list.
'@
    Parameters  = @{
        Id     = 'Only the servers with these ids. An id the session does not know writes a non-terminating error. Accepts pipeline input by property name.'
        Model  = 'Only the servers whose Model matches this wildcard pattern.'
        Engine = 'Only the servers of these engines: Fse, External, Attached.'
    }
    Inputs      = @{ 'System.Int32' = 'Server ids, by the property name Id.' }
    Outputs     = @{ 'Fse.Cmdlets.FseServer' = 'One handle per server.' }
    Examples    = @(
        @{ Code = 'Get-FseServer'; Remarks = 'Lists every server of the session as a table.' }
        @{ Code = 'Get-FseServer -Model *qwen3* | Stop-FseServer'; Remarks = 'Stops the servers whose model matches.' }
        @{ Code = 'Get-FseServer | Where-Object Status -eq Exited | Format-List Id, ExitCode, LogPath'; Remarks = 'Shows where to read why a server ended.' }
    )
    Notes       = 'Error id: ServerNotFound (an unknown -Id; non-terminating).'
    Links       = @('Start-FseServer', 'Stop-FseServer')
}
