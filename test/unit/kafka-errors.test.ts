/** Client errors are classified once (kafka/errors.ts) into a Failure that crosses threads as data. */
import { describe, expect, test } from "bun:test";
import { classify, isTopicRefusal, topicRefusalReason, type Failure } from "../../src/kafka/errors.ts";

/** Shaped like @platformatic/kafka's errors: GenericError (code, message, cause), MultipleErrors (errors), ResponseError (apiId). */
const err = (fields: { code?: string; message?: string; apiId?: string; errors?: unknown[]; cause?: unknown }) =>
  Object.assign(new Error(fields.message ?? ""), fields);
const response = (apiId: string) =>
  err({
    code: "PLT_KFK_RESPONSE",
    message: "Received response with error while executing API Produce(v9)",
    errors: [err({ code: "PLT_KFK_PROTOCOL", apiId, message: apiId })],
  });
const multiple = (...errors: unknown[]) => err({ code: "PLT_KFK_MULTIPLE", message: "Cannot connect to any broker.", errors });

describe("classify", () => {
  test("SASL refusals and TLS problems are not retriable, with the hint the operator needs", () => {
    const sasl = classify(err({ code: "PLT_KFK_AUTHENTICATION", message: "SASL authentication failed." }));
    expect(sasl).toMatchObject({ kind: "auth", retriable: false });
    expect(sasl.message).toContain("check --sasl-username");
    const tls = classify(multiple(err({ code: "SELF_SIGNED_CERT_IN_CHAIN", message: "self signed certificate in certificate chain" })));
    expect(tls).toMatchObject({ kind: "tls", retriable: false });
    expect(tls.message).toContain("--tls-ca-file");
  });

  test("a topic the client finds missing names it", () => {
    const failure = classify(err({ code: "PLT_KFK_USER", message: "Unknown topic orders." }));
    expect(failure).toEqual({
      kind: "unknown-topic",
      message: "Unknown topic orders (topic missing and auto-create is off)",
      retriable: false,
      topic: "orders",
    });
    expect(isTopicRefusal(failure)).toBe(true);
    expect(topicRefusalReason(failure)).toBe("the topic does not exist (processor does not create topics)");
  });

  test("the broker's UNKNOWN_TOPIC_OR_PARTITION is a topic refusal, but retriable (metadata may catch up)", () => {
    const failure = classify(response("UNKNOWN_TOPIC_OR_PARTITION"));
    expect(failure).toMatchObject({ kind: "unknown-topic", retriable: true });
    expect(failure.topic).toBeUndefined();
    expect(isTopicRefusal(failure)).toBe(true);
  });

  test("invalid topic names and topic authorization are topic refusals with their own reasons", () => {
    const invalid = classify(response("INVALID_TOPIC_EXCEPTION"));
    expect(invalid).toEqual({ kind: "invalid-topic", message: "invalid topic exception", retriable: false });
    expect(topicRefusalReason(invalid)).toContain("invalid topic");
    const denied = classify(response("TOPIC_AUTHORIZATION_FAILED"));
    expect(denied).toEqual({ kind: "topic-authorization", message: "topic authorization failed", retriable: false });
    expect(topicRefusalReason(denied)).toBe("this client is not authorized to write to the topic");
    const group = classify(response("GROUP_AUTHORIZATION_FAILED"));
    expect(group).toEqual({ kind: "authorization", message: "group authorization failed", retriable: false });
    expect(isTopicRefusal(group)).toBe(false);
  });

  test("a record too large wins over anything else in the chain", () => {
    const failure = classify(multiple(response("TOPIC_AUTHORIZATION_FAILED"), response("MESSAGE_TOO_LARGE")));
    expect(failure.kind).toBe("too-large");
    expect(failure.retriable).toBe(false);
    expect(classify(response("RECORD_LIST_TOO_LARGE")).kind).toBe("too-large");
  });

  test("a retriable finding does not hide a decisive one further down the chain", () => {
    expect(
      classify(multiple(response("UNKNOWN_TOPIC_OR_PARTITION"), err({ code: "ENOTFOUND", message: "getaddrinfo ENOTFOUND kafka" }))),
    ).toMatchObject({ kind: "host-not-found", retriable: false });
  });

  test("the client's own request check is not retriable", () => {
    expect(classify(err({ code: "PLT_KFK_USER", message: "/options/messages/0/key must be buffer" }))).toMatchObject({
      kind: "client-refused",
      retriable: false,
    });
  });

  test("commits refused for the group's generation are a rebalance, by API id or by the coordinator's words", () => {
    expect(classify(response("ILLEGAL_GENERATION"))).toMatchObject({ kind: "rebalance", retriable: true });
    expect(classify(response("REBALANCE_IN_PROGRESS")).kind).toBe("rebalance");
    expect(classify(err({ message: "The group is rebalancing, so a rejoin is needed." })).kind).toBe("rebalance");
  });

  test("anything else is retriable, named after its network or timeout cause, with every message of the chain", () => {
    const network = classify(multiple(err({ code: "PLT_KFK_NETWORK", message: "Connection to 127.0.0.1:9092 refused" })));
    expect(network).toEqual({
      kind: "network",
      message: "Cannot connect to any broker. <- Connection to 127.0.0.1:9092 refused",
      retriable: true,
    });
    expect(classify(err({ code: "PLT_KFK_TIMEOUT", message: "Request timed out" })).kind).toBe("timeout");
    expect(classify(new Error("boom"))).toEqual({ kind: "unknown", message: "boom", retriable: true });
    expect(classify("not an error")).toEqual({ kind: "unknown", message: "not an error", retriable: true });
  });

  test("a Failure survives the thread boundary unchanged (structured clone)", () => {
    const failure: Failure = classify(err({ code: "PLT_KFK_USER", message: "Unknown topic orders." }));
    expect(structuredClone(failure)).toEqual(failure);
  });
});
