namespace UserService.Data;

public class User
{
    public const int MaxNameLength = 100;
    public const int MaxEmailLength = 254;

    public int Id { get; set; }
    public required string Name { get; set; }
    public required string Email { get; set; }
    public DateTime CreatedAt { get; set; }
}
