namespace PointService.Data;

public class PointRecord
{
    public const int MaxReasonLength = 200;

    public long Id { get; set; }
    public int UserId { get; set; }
    public int Points { get; set; }
    public string? Reason { get; set; }
    public DateTime CreatedAt { get; set; }
}
