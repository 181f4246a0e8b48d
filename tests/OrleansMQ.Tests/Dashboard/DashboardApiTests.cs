using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;
using OrleansMQ.ConsumerGroups;
using OrleansMQ.Queues;
using OrleansMQ.Retry;
using OrleansMQ.Silo;
using OrleansMQ.Silo.Dashboard;
using OrleansMQ.Topics;
using OrleansMQ.Transactions;
using OrleansMQ.Tests.Infrastructure;
using static OrleansMQ.Tests.Infrastructure.TestData;

namespace OrleansMQ.Tests.Dashboard;

/// <summary>The HTTP API and console page, served by the test cluster's silos, called over real HTTP.</summary>
[Collection(BrokerCollection.Name)]
public sealed class DashboardApiTests(BrokerClusterFixture fixture)
{
    private readonly HttpClient _http = fixture.ConsoleHttp;
    private readonly IClusterClient _grains = fixture.Client;

    [Fact]
    public async Task The_console_page_its_script_and_its_style_are_served_with_a_strict_content_policy()
    {
        var page = await _http.GetAsync("/");
        var script = await _http.GetAsync("/console.js");
        var style = await _http.GetAsync("/console.css");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script src=\"console.js\"", html);
        Assert.Contains("console.css", html);
        Assert.Contains("script-src 'self'", string.Join(";", page.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Contains("textContent", await script.Content.ReadAsStringAsync());
        Assert.DoesNotContain("innerHTML =", await script.Content.ReadAsStringAsync());
        Assert.Equal("text/css", style.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Cluster_lists_the_active_silos_and_marks_the_one_answering()
    {
        var cluster = await GetJsonAsync("/api/cluster");

        var silos = cluster.GetProperty("silos").EnumerateArray().ToList();
        Assert.Equal(fixture.Cluster.GetActiveSilos().Count(), silos.Count);
        Assert.All(silos, s => Assert.Equal("Active", s.GetProperty("status").GetString()));
        var self = Assert.Single(silos, s => s.GetProperty("self").GetBoolean());
        Assert.Equal(fixture.Cluster.Primary!.SiloAddress.Endpoint.ToString(), self.GetProperty("address").GetString());
        Assert.Equal(_http.BaseAddress!.ToString(), cluster.GetProperty("consoleUrl").GetString());
    }

    [Fact]
    public async Task Metrics_show_the_messages_appended_to_a_topic_and_Orleans_and_runtime_meters_in_Prometheus_format()
    {
        var topic = await _grains.CreateTopicAsync("api-metrics", queues: 2);
        await _grains.Queue(topic, 0).AppendAsync(3);
        await _grains.Queue(topic, 1).AppendAsync(2);

        var response = await _http.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var appended = Assert.Single(text.Split('\n'), l => l.StartsWith("orleansmq_queue_appended_total{", StringComparison.Ordinal) && l.Contains($"topic=\"{topic}\""));
        Assert.Equal("5", appended[(appended.LastIndexOf(' ') + 1)..]);
        Assert.Contains("orleansmq_store_commit_duration_milliseconds_bucket{", text);
        Assert.Contains("orleans_catalog_activations", text);
        Assert.Contains("dotnet_gc_collections_total", text);
    }

    [Fact]
    public async Task The_probes_say_the_process_is_alive_and_the_active_silo_ready()
    {
        var alive = await _http.GetAsync("/healthz");
        var ready = await _http.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var answer = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("ready", answer.RootElement.GetProperty("verdict").GetString());
        Assert.Equal("Active", answer.RootElement.GetProperty("siloStatus").GetString());
        Assert.Equal(fixture.Cluster.Primary!.SiloAddress.ToString(), answer.RootElement.GetProperty("silo").GetString());
    }

    [Fact]
    public async Task A_topic_is_created_listed_described_and_deleted()
    {
        var topic = UniqueName("api-topic");

        var created = await _http.PostAsJsonAsync("/api/topics", new { name = topic, queues = 3, messageType = "fifo", retentionHours = 24 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var listed = Assert.Single((await GetJsonAsync("/api/topics")).EnumerateArray(), t => t.GetProperty("name").GetString() == topic);
        Assert.Equal((3, "Fifo", "ReadWrite", 24), (listed.GetProperty("queues").GetInt32(), listed.GetProperty("messageType").GetString(),
            listed.GetProperty("permission").GetString(), listed.GetProperty("retentionHours").GetInt32()));
        var status = await GetJsonAsync($"/api/topics/{topic}");
        Assert.Equal([0, 1, 2], status.GetProperty("queues").EnumerateArray().Select(q => q.GetProperty("queueId").GetInt32()));
        Assert.Equal(0, status.GetProperty("messages").GetInt64());

        var deleted = await _http.DeleteAsync($"/api/topics/{topic}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var gone = await _http.GetAsync($"/api/topics/{topic}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("TopicNotFound", (await DashboardTesting.ErrorOf(gone)).Code);
        Assert.DoesNotContain((await GetJsonAsync("/api/topics")).EnumerateArray(), t => t.GetProperty("name").GetString() == topic);
    }

    [Fact]
    public async Task A_topic_is_changed_by_PATCH_and_a_shrink_or_bad_value_is_a_typed_400_that_changes_nothing()
    {
        var topic = await _grains.CreateTopicAsync("api-update", queues: 2);

        var grown = await _http.PatchAsJsonAsync($"/api/topics/{topic}", new { queues = 4, permission = "Read", retentionHours = 6 });
        var shrink = await _http.PatchAsJsonAsync($"/api/topics/{topic}", new { queues = 3 });
        var badPerm = await _http.PatchAsJsonAsync($"/api/topics/{topic}", new { permission = "Everything" });
        var unknown = await _http.PatchAsJsonAsync($"/api/topics/{UniqueName("api-update-none")}", new { queues = 4 });

        Assert.Equal(HttpStatusCode.OK, grown.StatusCode);
        var view = JsonDocument.Parse(await grown.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((4, "Read", 4, 6), (view.GetProperty("queues").GetInt32(), view.GetProperty("permission").GetString(),
            view.GetProperty("perm").GetInt32(), view.GetProperty("retentionHours").GetInt32()));
        Assert.Equal(HttpStatusCode.BadRequest, shrink.StatusCode);
        Assert.Equal("InvalidArgument", (await DashboardTesting.ErrorOf(shrink)).Code);
        Assert.Equal(HttpStatusCode.BadRequest, badPerm.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var stored = (await _grains.Topic(topic).GetConfig())!;
        Assert.Equal((4, TopicPermission.Read, 6), (stored.Queues, stored.Permission, stored.RetentionHours));
    }

    [Fact]
    public async Task A_group_is_deleted_by_DELETE_and_one_with_a_live_instance_is_a_409()
    {
        var topic = await _grains.CreateTopicAsync("api-gdel", queues: 1);
        await _grains.Queue(topic, 0).AppendAsync(2);
        var group = UniqueName("api-gdel");
        var live = UniqueName("api-gdel-live");
        await _grains.Queue(topic, 0).CommitOffset(group, 2, flush: true);
        await _grains.GetGrain<IConsumerGroupGrain>(live).Heartbeat(new ConsumerHeartbeat(
            "live-client", [new Subscription(topic, "*")], MessageModel.Clustering, ConsumeFromWhere.LastOffset, "host"));

        var typo = await _http.DeleteAsync($"/api/groups/{group}?keepDlq=yes");
        var offsetsAfterTypo = await fixture.Database.CountGroupOffsetsAsync(group);
        var deleted = await _http.DeleteAsync($"/api/groups/{group}?keepDlq=true");
        var refused = await _http.DeleteAsync($"/api/groups/{live}");

        // A flag that is neither true nor false deletes nothing (it would otherwise have meant: delete the dead letters).
        Assert.Equal(HttpStatusCode.BadRequest, typo.StatusCode);
        Assert.Contains("keepDlq", (await DashboardTesting.ErrorOf(typo)).Message);
        Assert.Equal(1, offsetsAfterTypo);

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        var answer = JsonDocument.Parse(await deleted.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((group, 1L), (answer.GetProperty("group").GetString(), answer.GetProperty("offsetsRemoved").GetInt64()));
        Assert.Equal(0, await fixture.Database.CountGroupOffsetsAsync(group));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("ConsumerGroupActive", (await DashboardTesting.ErrorOf(refused)).Code);
    }

    [Theory]
    [InlineData("a b", HttpStatusCode.BadRequest, "InvalidTopicName", 1)]
    [InlineData("%RETRY%someone", HttpStatusCode.BadRequest, "ReservedName", 3)]
    public async Task A_bad_topic_name_is_a_typed_400_and_creates_nothing(string name, HttpStatusCode status, string code, int number)
    {
        var response = await _http.PostAsJsonAsync("/api/topics", new { name, queues = 2 });

        Assert.Equal(status, response.StatusCode);
        var error = await DashboardTesting.ErrorOf(response);
        Assert.Equal((code, number), (error.Code, error.Number));
        Assert.Contains(name, error.Message);
        Assert.Equal(0, await fixture.Database.CountTopicRowsAsync(name));
    }

    [Fact]
    public async Task A_topic_created_with_no_permission_is_a_typed_400_and_creates_nothing()
    {
        var name = UniqueName("api-perm-none");

        var response = await _http.PostAsJsonAsync("/api/topics", new { name, queues = 2, permission = "None" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await DashboardTesting.ErrorOf(response);
        Assert.Equal("InvalidArgument", error.Code);
        Assert.Contains("permission 0 is not one of 2 (write), 4 (read) or 6", error.Message);
        Assert.Equal(0, await fixture.Database.CountTopicRowsAsync(name));
    }

    [Fact]
    public async Task Creating_an_existing_topic_is_a_409_and_keeps_its_configuration()
    {
        var topic = await _grains.CreateTopicAsync("api-dup", queues: 2);

        var response = await _http.PostAsJsonAsync("/api/topics", new { name = topic, queues = 8 });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("TopicAlreadyExists", (await DashboardTesting.ErrorOf(response)).Code);
        Assert.Equal(2, (await _grains.Topic(topic).GetConfig())!.Queues);
    }

    [Theory]
    [InlineData("/api/topics", "{not json")]
    [InlineData("/api/topics", "")]
    [InlineData("/api/topics", "{}")]
    [InlineData("/api/topics", "{\"name\": 42}")]
    [InlineData("/api/topics", "{\"name\": \"x\", \"messageType\": \"Sometimes\"}")]
    [InlineData("/api/messages", "{\"body\": \"no topic\"}")]
    public async Task Malformed_or_incomplete_JSON_is_a_400_InvalidArgument(string path, string body)
    {
        var response = await _http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await DashboardTesting.ErrorOf(response);
        Assert.Equal(("InvalidArgument", 15), (error.Code, error.Number));
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.Equal(0, await fixture.Database.CountTopicRowsAsync("x"));
    }

    [Fact]
    public async Task A_body_that_is_not_declared_JSON_is_refused_so_other_web_pages_cannot_post_without_a_preflight()
    {
        var topic = UniqueName("api-csrf");

        var response = await _http.PostAsync("/api/topics", new StringContent($"{{\"name\":\"{topic}\"}}", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("application/json", (await DashboardTesting.ErrorOf(response)).Message);
        Assert.Equal(0, await fixture.Database.CountTopicRowsAsync(topic));
    }

    [Fact]
    public async Task A_message_without_a_body_or_to_an_unknown_topic_is_refused_and_nothing_is_stored()
    {
        var topic = await _grains.CreateTopicAsync("api-refused", queues: 1);
        var unknown = UniqueName("api-unknown");

        var noBody = await _http.PostAsJsonAsync("/api/messages", new { topic });
        var emptyBody = await _http.PostAsJsonAsync("/api/messages", new { topic, body = "" });
        var badTag = await _http.PostAsJsonAsync("/api/messages", new { topic, body = "x", tag = "a || b" });
        var toUnknown = await _http.PostAsJsonAsync("/api/messages", new { topic = unknown, body = "x" });

        Assert.Equal((HttpStatusCode.BadRequest, "InvalidArgument"), (noBody.StatusCode, (await DashboardTesting.ErrorOf(noBody)).Code));
        Assert.Equal((HttpStatusCode.BadRequest, "EmptyBody"), (emptyBody.StatusCode, (await DashboardTesting.ErrorOf(emptyBody)).Code));
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidTag"), (badTag.StatusCode, (await DashboardTesting.ErrorOf(badTag)).Code));
        Assert.Equal((HttpStatusCode.NotFound, "TopicNotFound"), (toUnknown.StatusCode, (await DashboardTesting.ErrorOf(toUnknown)).Code));
        Assert.Equal(0, await fixture.Database.CountMessagesAsync(topic));
        Assert.Equal(0, await fixture.Database.CountTopicRowsAsync(unknown)); // the console's sends never auto-create
    }

    [Fact]
    public async Task A_sent_message_is_found_by_id_by_key_and_by_offset_with_every_field()
    {
        var topic = await _grains.CreateTopicAsync("api-send", queues: 2);
        const string body = "héllo <script>alert(1)</script>";
        var key = UniqueName("order");

        var sent = await PostJsonAsync("/api/messages", new { topic, body, tag = "created", keys = new[] { key, "other" }, properties = new Dictionary<string, string> { ["region"] = "eu" } });

        var msgId = sent.GetProperty("msgId").GetString()!;
        var (queue, offset) = (sent.GetProperty("queueId").GetInt32(), sent.GetProperty("queueOffset").GetInt64());
        Assert.Equal(msgId, (await fixture.Database.ReadRowAsync(topic, queue, offset))!.Value.MsgId);

        var byId = Assert.Single((await GetJsonAsync($"/api/messages/by-id/{msgId}")).EnumerateArray());
        var byKey = Assert.Single((await GetJsonAsync($"/api/messages/by-key?topic={topic}&key={key}")).EnumerateArray());
        var byOffset = await GetJsonAsync($"/api/messages/by-offset?topic={topic}&queue={queue}&offset={offset}");
        var reader = UniqueName("api-track");
        await _grains.Queue(topic, queue).CommitOffset(reader, offset + 1, flush: true);
        var track = Assert.Single((await GetJsonAsync($"/api/messages/track?topic={topic}&queue={queue}&offset={offset}")).EnumerateArray());
        Assert.Equal((reader, "Consumed", offset + 1), (track.GetProperty("group").GetString(), track.GetProperty("status").GetString(), track.GetProperty("committedOffset").GetInt64()));
        var resent = await PostJsonAsync("/api/messages/resend", new { group = reader, topic, queueId = queue, queueOffset = offset });
        Assert.Equal((msgId, $"%RETRY%{reader}"), (resent.GetProperty("msgId").GetString(), resent.GetProperty("topic").GetString()));
        foreach (var m in new[] { byId, byKey, byOffset })
        {
            Assert.Equal(msgId, m.GetProperty("msgId").GetString());
            Assert.Equal((topic, queue, offset), (m.GetProperty("topic").GetString(), m.GetProperty("queueId").GetInt32(), m.GetProperty("queueOffset").GetInt64()));
            Assert.Equal((body, "utf-8", Encoding.UTF8.GetByteCount(body)), (m.GetProperty("body").GetString(), m.GetProperty("bodyEncoding").GetString(), m.GetProperty("bodySize").GetInt32()));
            Assert.Equal("created", m.GetProperty("tag").GetString());
            Assert.Equal([key, "other"], m.GetProperty("keys").EnumerateArray().Select(k => k.GetString()));
            Assert.Equal("eu", m.GetProperty("properties").GetProperty("region").GetString());
            Assert.Equal("orleansmq-console", m.GetProperty("producerGroup").GetString());
            Assert.Equal(0, m.GetProperty("reconsumeTimes").GetInt32());
            Assert.True(m.GetProperty("storedAt").GetDateTimeOffset() >= m.GetProperty("bornAt").GetDateTimeOffset().AddSeconds(-5));
        }
    }

    [Fact]
    public async Task A_body_that_is_not_UTF8_is_shown_as_base64()
    {
        var topic = await _grains.CreateTopicAsync("api-binary", queues: 1);
        byte[] bytes = [0xff, 0xfe, 0x00, 0x41];
        await _grains.Queue(topic, 0).Append(Batch(WithBody(bytes)));

        var m = await GetJsonAsync($"/api/messages/by-offset?topic={topic}&queue=0&offset=0");

        Assert.Equal(("base64", Convert.ToBase64String(bytes)), (m.GetProperty("bodyEncoding").GetString(), m.GetProperty("body").GetString()));
    }

    [Fact]
    public async Task Lists_show_the_beginning_of_a_long_body_and_a_query_by_offset_all_of_it()
    {
        var topic = await _grains.CreateTopicAsync("api-long", queues: 1);
        var key = UniqueName("long");
        var body = string.Concat(Enumerable.Repeat("é", 3000)); // 6000 bytes; the 4096-byte cut falls inside no character
        await PostJsonAsync("/api/messages", new { topic, body, keys = new[] { key } });

        var listed = Assert.Single((await GetJsonAsync($"/api/messages/by-key?topic={topic}&key={key}")).EnumerateArray());
        var full = await GetJsonAsync($"/api/messages/by-offset?topic={topic}&queue=0&offset=0");

        Assert.True(listed.GetProperty("bodyTruncated").GetBoolean());
        Assert.Equal(("utf-8", body[..2048], 6000), (listed.GetProperty("bodyEncoding").GetString(), listed.GetProperty("body").GetString(), listed.GetProperty("bodySize").GetInt32()));
        Assert.False(full.GetProperty("bodyTruncated").GetBoolean());
        Assert.Equal(body, full.GetProperty("body").GetString());
    }

    [Fact]
    public async Task A_timer_message_waits_on_a_schedule_queue_and_a_level_with_a_time_is_refused()
    {
        var topic = await _grains.CreateTopicAsync("api-timer", queues: 1);

        var sent = await PostJsonAsync("/api/messages", new { topic, body = "later", deliverAt = DateTimeOffset.UtcNow.AddHours(1) });
        var both = await _http.PostAsJsonAsync("/api/messages", new { topic, body = "x", delayLevel = 2, deliverAt = DateTimeOffset.UtcNow.AddHours(1) });

        Assert.NotEqual(JsonValueKind.Null, sent.GetProperty("scheduledOn").ValueKind);
        Assert.Equal(topic, sent.GetProperty("topic").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        Assert.Equal("InvalidArgument", (await DashboardTesting.ErrorOf(both)).Code);
        Assert.Equal(0, await fixture.Database.CountMessagesAsync(topic)); // the timer message is not on its topic yet
    }

        [Theory]
    [InlineData("/api/messages/by-offset?topic=T&queue=abc&offset=0", HttpStatusCode.BadRequest, "InvalidArgument")]
    [InlineData("/api/messages/by-offset?topic=T&offset=0", HttpStatusCode.BadRequest, "InvalidArgument")]
    [InlineData("/api/messages/by-key?topic=T", HttpStatusCode.BadRequest, "InvalidArgument")]
    [InlineData("/api/messages/by-key?topic=T&key=k&from=yesterday", HttpStatusCode.BadRequest, "InvalidArgument")]
    [InlineData("/api/messages/by-id/NO-SUCH-ID", HttpStatusCode.NotFound, "MessageNotFound")]
    [InlineData("/api/topics/bad%20name", HttpStatusCode.BadRequest, "InvalidTopicName")]
    [InlineData("/api/groups/bad%20group/progress", HttpStatusCode.BadRequest, "InvalidGroupName")]
    [InlineData("/api/no-such-endpoint", HttpStatusCode.NotFound, "NotFound")]
    public async Task Bad_queries_are_typed_errors(string path, HttpStatusCode status, string code)
    {
        var response = await _http.GetAsync(path);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, (await DashboardTesting.ErrorOf(response)).Code);
    }

    [Fact]
    public async Task Unknown_topics_and_queues_are_404()
    {
        var topic = await _grains.CreateTopicAsync("api-queues", queues: 2);

        var noTopic = await _http.GetAsync($"/api/topics/{UniqueName("nope")}");
        var noQueue = await _http.GetAsync($"/api/messages/by-offset?topic={topic}&queue=7&offset=0");
        var noMessage = await _http.GetAsync($"/api/messages/by-offset?topic={topic}&queue=1&offset=0");
        var deleteUnknown = await _http.DeleteAsync($"/api/topics/{UniqueName("nope")}");

        Assert.Equal("TopicNotFound", (await DashboardTesting.ErrorOf(noTopic)).Code);
        Assert.Equal("QueueNotFound", (await DashboardTesting.ErrorOf(noQueue)).Code);
        Assert.Equal("MessageNotFound", (await DashboardTesting.ErrorOf(noMessage)).Code);
        Assert.Equal("TopicNotFound", (await DashboardTesting.ErrorOf(deleteUnknown)).Code);
        Assert.All([noTopic, noQueue, noMessage, deleteUnknown], r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
    }

    [Fact]
    public async Task Group_progress_shows_the_lag_left_after_a_consume_and_the_group_is_listed()
    {
        var topic = await _grains.CreateTopicAsync("api-progress", queues: 1);
        var group = UniqueName("api-group");
        for (var i = 0; i < 3; i++) await PostJsonAsync("/api/messages", new { topic, body = $"m{i}" });
        var pulled = await _grains.Queue(topic, 0).Pull(new PullRequest(group, 0, MaxMessages: 2));
        await _grains.Queue(topic, 0).CommitOffset(group, pulled.NextBeginOffset, flush: true);

        var progress = await GetJsonAsync($"/api/groups/{group}/progress");

        var queue = Assert.Single(progress.GetProperty("queues").EnumerateArray());
        Assert.Equal((topic, 0, 3L, 2L, 1L), (queue.GetProperty("topic").GetString(), queue.GetProperty("queueId").GetInt32(),
            queue.GetProperty("brokerOffset").GetInt64(), queue.GetProperty("consumerOffset").GetInt64(), queue.GetProperty("lag").GetInt64()));
        Assert.Equal(1, progress.GetProperty("totalLag").GetInt64());
        var consumer = Assert.Single((await GetJsonAsync($"/api/topics/{topic}/groups")).EnumerateArray());
        Assert.Equal((group, 1, 1L), (consumer.GetProperty("group").GetString(), consumer.GetProperty("queues").GetInt32(), consumer.GetProperty("totalLag").GetInt64()));
        var listed = Assert.Single((await GetJsonAsync("/api/groups")).EnumerateArray(), g => g.GetProperty("group").GetString() == group);
        Assert.Equal((0, 1L), (listed.GetProperty("instances").GetInt32(), listed.GetProperty("totalLag").GetInt64()));
        Assert.Empty((await GetJsonAsync($"/api/groups/{group}/instances")).EnumerateArray());
    }

    [Fact]
    public async Task Instances_show_subscriptions_and_model_and_a_live_group_refuses_an_offset_reset()
    {
        var topic = await _grains.CreateTopicAsync("api-instances", queues: 1);
        var group = UniqueName("api-live");
        await _grains.GetGrain<IConsumerGroupGrain>(group).Heartbeat(
            new ConsumerHeartbeat("client-1", [new Subscription(topic, "a || b")], MessageModel.Broadcasting, ConsumeFromWhere.FirstOffset, "host-1"));

        var instance = Assert.Single((await GetJsonAsync($"/api/groups/{group}/instances")).EnumerateArray());
        var reset = await _http.PostAsJsonAsync($"/api/groups/{group}/reset-offset", new { topic, time = DateTimeOffset.UtcNow.AddHours(-1) });

        Assert.Equal(("client-1", "host-1", "Broadcasting"), (instance.GetProperty("clientId").GetString(), instance.GetProperty("host").GetString(), instance.GetProperty("messageModel").GetString()));
        var subscription = Assert.Single(instance.GetProperty("subscriptions").EnumerateArray());
        Assert.Equal((topic, "a || b"), (subscription.GetProperty("topic").GetString(), subscription.GetProperty("expression").GetString()));
        Assert.Equal(HttpStatusCode.Conflict, reset.StatusCode);
        Assert.Equal("ConsumerGroupActive", (await DashboardTesting.ErrorOf(reset)).Code);
        Assert.Null(await fixture.Database.ReadConsumerOffsetAsync(group, topic, 0));
    }

    [Fact]
    public async Task Reset_offset_by_time_moves_a_stopped_group_back()
    {
        var topic = await _grains.CreateTopicAsync("api-reset", queues: 1);
        var group = UniqueName("api-reset");
        await _grains.Queue(topic, 0).AppendAsync(4);
        await _grains.Queue(topic, 0).CommitOffset(group, 4, flush: true);

        var resets = await PostJsonAsync($"/api/groups/{group}/reset-offset", new { topic, time = DateTimeOffset.UtcNow.AddHours(-1) });

        var reset = Assert.Single(resets.EnumerateArray());
        Assert.Equal((4L, 0L), (reset.GetProperty("before").GetInt64(), reset.GetProperty("after").GetInt64()));
        Assert.Equal(0, await _grains.Queue(topic, 0).GetCommittedOffset(group));
    }

    [Fact]
    public async Task Dead_letters_are_listed_and_resent()
    {
        var topic = await _grains.CreateTopicAsync("api-dlq", queues: 1);
        var group = UniqueName("api-dlq");
        await _grains.Queue(topic, 0).Append(Batch(Message("poison", tag: "bad")));
        var pulled = Assert.Single((await _grains.Queue(topic, 0).Pull(new PullRequest(group, 0))).Messages);
        await _grains.GetGrain<IRetryGrain>(group).SendToDeadLetter(pulled with { ReconsumeTimes = 16 }, "failed 16 times");
        Assert.Empty((await GetJsonAsync($"/api/groups/{UniqueName("clean")}/dlq")).EnumerateArray());

        var letter = Assert.Single((await GetJsonAsync($"/api/groups/{group}/dlq")).EnumerateArray());
        Assert.Equal((pulled.MsgId, "poison", 16), (letter.GetProperty("message").GetProperty("msgId").GetString(),
            letter.GetProperty("message").GetProperty("body").GetString(), letter.GetProperty("message").GetProperty("reconsumeTimes").GetInt32()));
        Assert.Equal(JsonValueKind.Null, letter.GetProperty("resentAt").ValueKind);

        var neither = await _http.PostAsJsonAsync($"/api/groups/{group}/dlq/resend", new { });
        Assert.Equal(HttpStatusCode.BadRequest, neither.StatusCode);
        var unknownId = await _http.PostAsJsonAsync($"/api/groups/{group}/dlq/resend", new { msgIds = new[] { "NO-SUCH-ID" } });
        Assert.Equal("MessageNotFound", (await DashboardTesting.ErrorOf(unknownId)).Code);
        var resent = Assert.Single((await PostJsonAsync($"/api/groups/{group}/dlq/resend", new { all = true })).EnumerateArray());
        Assert.Equal(pulled.MsgId, resent.GetProperty("msgId").GetString());
        Assert.NotEqual(JsonValueKind.Null, Assert.Single((await GetJsonAsync($"/api/groups/{group}/dlq")).EnumerateArray()).GetProperty("resentAt").ValueKind);
    }

    [Fact]
    public async Task Delay_shows_the_clusters_levels_and_their_schedules()
    {
        var delay = await GetJsonAsync("/api/delay");

        Assert.Equal(TestSiloConfigurator.DelayLevels.Split(' '), delay.GetProperty("levels").EnumerateArray().Select(l => l.GetProperty("delay").GetString()));
        Assert.Equal(18, delay.GetProperty("schedules").EnumerateArray().Count(s => s.GetProperty("kind").GetString() == "DelayLevel"));
    }

    [Fact]
    public async Task A_default_port_already_taken_turns_the_console_off_and_a_chosen_one_fails_naming_the_switch()
    {
        var taken = _http.BaseAddress!.Port;
        var services = ((InProcessSiloHandle)fixture.Cluster.Primary!).SiloHost.Services;
        DashboardServer Server(bool given) => new(_grains, services.GetRequiredService<ILocalSiloDetails>(), services.GetRequiredService<ISiloStatusOracle>(),
            Options.Create(new DashboardOptions { Port = taken, PortGiven = given }), NullLoggerFactory.Instance);

        await using var byDefault = Server(given: false);
        await byDefault.StartAsync(CancellationToken.None);
        Assert.Null(byDefault.Url);
        Assert.Contains("--http-port", byDefault.OffReason);

        await using var chosen = Server(given: true);
        var e = await Assert.ThrowsAsync<SiloSettingsException>(() => chosen.StartAsync(CancellationToken.None));
        Assert.Contains("--http-port", e.Message);
        Assert.Contains(taken.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public async Task A_pending_transaction_is_listed_and_committed_by_hand_and_a_second_decision_is_a_409()
    {
        var topic = await _grains.CreateTopicAsync("api-tx", 1);
        var group = UniqueName("api-tx-g");
        await using var producer = new OrleansMQ.Client.TransactionProducer(_grains, OrleansMQ.Tests.Transactions.TransactionTestKit.Options(group),
            OrleansMQ.Tests.Transactions.ScriptedListener.Answering(LocalTransactionState.Unknown));
        // No check-back for a minute: the operator decides, not the listener.
        var message = new OrleansMQ.Client.Message(topic, "pay") { Properties = { [TransactionRules.CheckImmunityTimeProperty] = "60" } };
        var sent = await producer.SendMessageInTransactionAsync(message, null);

        var pending = Assert.Single((await GetJsonAsync($"/api/transactions?group={group}&state=pending")).EnumerateArray());
        Assert.Equal(sent.TransactionId, pending.GetProperty("transactionId").GetString());
        Assert.Equal("Pending", pending.GetProperty("state").GetString());
        Assert.Empty(await ReadAllAsync(topic));

        var committed = await PostJsonAsync($"/api/transactions/{group}/{sent.TransactionId}/commit", new { });
        Assert.Equal("Committed", committed.GetProperty("state").GetString());
        Assert.Equal(sent.TransactionId, Assert.Single(await ReadAllAsync(topic)).MsgId);

        var rollback = await _http.PostAsJsonAsync($"/api/transactions/{group}/{sent.TransactionId}/rollback", new { });
        Assert.Equal(HttpStatusCode.Conflict, rollback.StatusCode);
        Assert.Equal("TransactionAlreadyResolved", (await DashboardTesting.JsonOf(rollback)).GetProperty("code").GetString());
        var unknown = await _http.PostAsJsonAsync($"/api/transactions/{group}/no-such-transaction/commit", new { });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var badState = await _http.GetAsync("/api/transactions?state=maybe");
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        Assert.Single(await ReadAllAsync(topic));
    }

    private async Task<IReadOnlyList<OrleansMQ.Messages.MessageExt>> ReadAllAsync(string topic) =>
        (await _grains.Queue(topic, 0).Pull(new PullRequest("api-tx-reader", 0, 100))).Messages;

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        var response = await _http.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await DashboardTesting.JsonOf(response);
    }

    private async Task<JsonElement> PostJsonAsync(string path, object body)
    {
        var response = await _http.PostAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await DashboardTesting.JsonOf(response);
    }
}
