@{
    Synopsis    = 'Checks that a checkpoint computes the same function with FSE on and off.'
    Description = @'
Test-FseParity loads a checkpoint twice, with the FSE weight plan off and on, runs both over the same seeded random token ids and returns an FseParityResult: the largest absolute logit difference, the largest per-position relative L2 difference, the fraction of MoE routing decisions (layer × token) whose top-k routed experts agree, the fraction of positions whose argmax agrees, and whether the shared-expert slots were where FSE puts them (ids E.. after the top-k with FSE on, absent with FSE off). Passed is true when the relative difference is within -Tolerance and the slots are right.

This is the check that catches the failure modes of fusing a shared expert: a shared slot silently dropped (the output loses the shared expert), or the shared gate fused into a router that should not have it.
'@
    Parameters  = @{
        Model     = 'A checkpoint directory in Hugging Face hub layout. Accepts the property names Path and FullName from the pipeline.'
        Positions = 'How many random tokens to run (default 32).'
        Seed      = 'Seed of the random tokens (default 1234).'
        Tolerance = 'The largest per-position relative L2 difference that passes (default 1e-4).'
        Device    = 'Auto (default), Cpu or Cuda.'
    }
    Inputs      = @{ 'System.String' = 'A checkpoint directory, by the property names Path or FullName.' }
    Outputs     = @{ 'Fse.Runtime.Inference.FseParityResult' = 'Model, Device, Positions, Seed, MaxAbsDiff, MaxRelativeL2, RoutingAgreement, ArgmaxAgreement, SharedSlotsCorrect, Tolerance, Passed.' }
    Examples    = @(
        @{ Code = 'Test-FseParity -Model ./qwen3-next-tiny'; Remarks = 'Compares FSE on and off over 32 random tokens.' }
        @{ Code = 'Get-ChildItem ./models -Directory | Test-FseParity -Positions 128 | Where-Object { -not $_.Passed }'; Remarks = 'Lists the checkpoints whose FSE plan does not reproduce the unfused model.' }
    )
    Notes       = 'Error ids: as Get-FseLogits.'
    Links       = @('Get-FseLogits', 'about_Fse')
}
