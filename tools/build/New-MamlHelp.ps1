#requires -Version 7.4
<#
.SYNOPSIS
Writes MAML help for the binary cmdlets of a built Fse module from Module/Help/<Cmdlet>.psd1 texts.

.DESCRIPTION
platyPS is not available from the package feed, so this does its job: syntax, parameter types, positions and
pipeline input come from the compiled cmdlets (Get-Command), the prose from one data file per cmdlet. Run in a
fresh pwsh: it imports the module from -ModulePath. Fails when a cmdlet has no help file, no synopsis, no
example, or an undocumented parameter, so help cannot silently fall behind the code.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $HelpSource,
    [Parameter(Mandatory)] [string] $OutFile
)
$ErrorActionPreference = 'Stop'
$module = Import-Module $ModulePath -PassThru -Force
$common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
$nsMaml = 'http://schemas.microsoft.com/maml/2004/10'
$nsCommand = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$nsDev = 'http://schemas.microsoft.com/maml/dev/2004/10'

$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
$null = New-Item -ItemType Directory -Force -Path (Split-Path $OutFile)
$w = [System.Xml.XmlWriter]::Create($OutFile, $settings)
function Para([string] $text) {
    foreach ($p in ($text -split "(\r?\n){2,}" | Where-Object { $_.Trim() })) { $w.WriteElementString('para', $nsMaml, $p.Trim()) }
}
function PipelineText($p) {
    $kinds = @()
    foreach ($a in $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }) {
        if ($a.ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
        if ($a.ValueFromPipeline) { $kinds += 'ByValue' }
    }
    $kinds = $kinds | Select-Object -Unique
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}
function TypeName([type] $t) {
    if ($t -eq [System.Management.Automation.SwitchParameter]) { 'SwitchParameter' } else { $t.Name }
}
function WriteParameter($p, $set, [hashtable] $docs, [bool] $full) {
    $w.WriteStartElement('command', 'parameter', $nsCommand)
    $w.WriteAttributeString('required', "$($set.IsMandatory)".ToLowerInvariant())
    $w.WriteAttributeString('position', $(if ($set.Position -ge 0) { "$($set.Position)" } else { 'named' }))
    $w.WriteAttributeString('pipelineInput', (PipelineText $p))
    $w.WriteAttributeString('globbing', 'false')
    $w.WriteAttributeString('variableLength', "$($p.ParameterType.IsArray)".ToLowerInvariant())
    $w.WriteAttributeString('aliases', $(if ($p.Aliases.Count) { $p.Aliases -join ', ' } else { 'none' }))
    $w.WriteElementString('name', $nsMaml, $p.Name)
    if ($full) {
        $w.WriteStartElement('description', $nsMaml); Para $docs[$p.Name]; $w.WriteEndElement()
    }
    if ($p.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
        $w.WriteStartElement('command', 'parameterValue', $nsCommand)
        $w.WriteAttributeString('required', 'true'); $w.WriteAttributeString('variableLength', "$($p.ParameterType.IsArray)".ToLowerInvariant())
        $w.WriteString((TypeName $p.ParameterType)); $w.WriteEndElement()
        $validate = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
        if ($validate) {
            $w.WriteStartElement('command', 'parameterValueGroup', $nsCommand)
            foreach ($v in $validate.ValidValues) {
                $w.WriteStartElement('command', 'parameterValue', $nsCommand); $w.WriteAttributeString('required', 'false'); $w.WriteAttributeString('variableLength', 'false'); $w.WriteString($v); $w.WriteEndElement()
            }
            $w.WriteEndElement()
        }
    }
    if ($full) {
        $w.WriteStartElement('dev', 'type', $nsDev); $w.WriteElementString('name', $nsMaml, (TypeName $p.ParameterType)); $w.WriteEndElement()
        $w.WriteElementString('defaultValue', $nsDev, 'None')
    }
    $w.WriteEndElement()
}

$w.WriteStartDocument()
$w.WriteStartElement('helpItems', 'http://msh')
$w.WriteAttributeString('schema', 'maml')
$problems = @()
foreach ($cmd in Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name) {
    $file = Join-Path $HelpSource "$($cmd.Name).psd1"
    if (-not (Test-Path $file)) { $problems += "$($cmd.Name): no help file $file"; continue }
    $doc = Import-PowerShellDataFile $file
    $params = $cmd.Parameters.Values | Where-Object { $_.Name -notin $common }
    foreach ($p in $params) { if (-not $doc.Parameters -or -not $doc.Parameters[$p.Name]) { $problems += "$($cmd.Name): parameter -$($p.Name) is not documented in $file" } }
    if (-not $doc.Synopsis) { $problems += "$($cmd.Name): no Synopsis" }
    if (-not $doc.Examples) { $problems += "$($cmd.Name): no example" }
    $verb, $noun = $cmd.Name -split '-', 2

    $w.WriteStartElement('command', 'command', $nsCommand)
    $w.WriteAttributeString('xmlns', 'maml', $null, $nsMaml)
    $w.WriteAttributeString('xmlns', 'command', $null, $nsCommand)
    $w.WriteAttributeString('xmlns', 'dev', $null, $nsDev)
    $w.WriteStartElement('command', 'details', $nsCommand)
    $w.WriteElementString('name', $nsCommand, $cmd.Name)
    $w.WriteElementString('verb', $nsCommand, $verb)
    $w.WriteElementString('noun', $nsCommand, $noun)
    $w.WriteStartElement('description', $nsMaml); Para $doc.Synopsis; $w.WriteEndElement()
    $w.WriteEndElement()
    $w.WriteStartElement('description', $nsMaml); Para $doc.Description; $w.WriteEndElement()

    $w.WriteStartElement('command', 'syntax', $nsCommand)
    foreach ($set in $cmd.ParameterSets) {
        $w.WriteStartElement('command', 'syntaxItem', $nsCommand)
        $w.WriteElementString('name', $nsMaml, $cmd.Name)
        foreach ($sp in $set.Parameters | Where-Object { $_.Name -notin $common }) {
            WriteParameter $cmd.Parameters[$sp.Name] $sp $doc.Parameters $false
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $nsCommand)
    foreach ($p in $params | Sort-Object Name) {
        $sp = $cmd.ParameterSets.Parameters | Where-Object Name -EQ $p.Name | Select-Object -First 1
        WriteParameter $p $sp $doc.Parameters $true
    }
    $w.WriteEndElement()

    foreach ($section in @(@('inputTypes', 'inputType', $doc.Inputs), @('returnValues', 'returnValue', $doc.Outputs))) {
        $w.WriteStartElement('command', $section[0], $nsCommand)
        $entries = if ($section[2]) { $section[2] } else { @{ 'None' = '' } }
        foreach ($k in $entries.Keys | Sort-Object) {
            $w.WriteStartElement('command', $section[1], $nsCommand)
            $w.WriteStartElement('dev', 'type', $nsDev); $w.WriteElementString('name', $nsMaml, $k); $w.WriteEndElement()
            $w.WriteStartElement('description', $nsMaml); Para $entries[$k]; $w.WriteEndElement()
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }
    if ($doc.Notes) {
        $w.WriteStartElement('alertSet', $nsMaml); $w.WriteStartElement('alert', $nsMaml); Para $doc.Notes; $w.WriteEndElement(); $w.WriteEndElement()
    }
    $w.WriteStartElement('command', 'examples', $nsCommand)
    $i = 0
    foreach ($ex in $doc.Examples) {
        $i++
        $w.WriteStartElement('command', 'example', $nsCommand)
        $w.WriteElementString('title', $nsMaml, "-------------------------- Example $i --------------------------")
        $w.WriteElementString('code', $nsDev, $ex.Code)
        $w.WriteStartElement('remarks', $nsDev); Para $ex.Remarks; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteStartElement('command', 'relatedLinks', $nsCommand)
    foreach ($l in $doc.Links) {
        $w.WriteStartElement('navigationLink', $nsMaml); $w.WriteElementString('linkText', $nsMaml, $l); $w.WriteElementString('uri', $nsMaml, ''); $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteEndElement()
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Close()
if ($problems) { throw "Help is incomplete:`n  " + ($problems -join "`n  ") }
