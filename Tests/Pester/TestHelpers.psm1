# Helpers shared by the Pester files: import with Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1).

function Get-FseSharedDataPath {
    <# The workplace's shared/data folder: FSE_SHARED_DATA, else shared/data beside the clone or above it. #>
    if ($env:FSE_SHARED_DATA) { return $env:FSE_SHARED_DATA }
    $dir = Get-Item $PSScriptRoot
    while ($dir) {
        $candidate = Join-Path $dir.FullName 'shared/data'
        if (Test-Path (Join-Path $candidate 'gsm8k')) { return $candidate }
        $dir = $dir.Parent
    }
    throw 'The shared data folder (shared/data) was not found beside this clone or above it; set FSE_SHARED_DATA.'
}

Export-ModuleMember -Function Get-FseSharedDataPath
