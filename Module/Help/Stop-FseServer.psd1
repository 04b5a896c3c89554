@{
    Synopsis    = 'Stops servers this session started (SIGTERM, then a kill after a timeout) or forgets attached ones.'
    Description = @'
Stop-FseServer stops each given server and removes it from the session's list. A server the session started (fse-server or -Engine External) gets SIGTERM: fse-server stops admitting requests, lets running ones finish within its grace period and exits 0. A process that has not exited after -TimeoutSeconds is killed with its whole process tree, and a warning says so. On Windows, where there is no SIGTERM, the tree is killed at once. A server attached with Start-FseServer -Url keeps running; the session only forgets it.

Servers come from the pipeline (Start-FseServer or Get-FseServer output) or by -Id. -WhatIf shows what would be stopped; -Confirm asks first.
'@
    Parameters  = @{
        Server         = 'The FseServer handles to stop. Accepts pipeline input.'
        Id             = 'The ids of the servers to stop. An id the session does not know writes a non-terminating error. Accepts pipeline input by property name.'
        TimeoutSeconds = 'Seconds to wait after SIGTERM before killing the process tree (default 30).'
        PassThru       = 'Writes each stopped server''s handle (with its Status and ExitCode) to the pipeline.'
    }
    Inputs      = @{ 'Fse.Cmdlets.FseServer' = 'A server handle.'; 'System.Int32' = 'A server id, by the property name Id.' }
    Outputs     = @{ 'None' = 'Nothing, unless -PassThru.'; 'Fse.Cmdlets.FseServer' = 'With -PassThru, the stopped server.' }
    Examples    = @(
        @{ Code = 'Stop-FseServer $s'; Remarks = 'Stops one server gracefully.' }
        @{ Code = 'Get-FseServer | Stop-FseServer -TimeoutSeconds 5'; Remarks = 'Stops every server of the session, killing any that take longer than 5 s.' }
        @{ Code = 'Get-FseServer | Stop-FseServer -WhatIf'; Remarks = 'Shows which servers would be stopped.' }
    )
    Notes       = 'Error ids (non-terminating): ServerNotFound, ServerStopFailed.'
    Links       = @('Start-FseServer', 'Get-FseServer')
}
