// Starts the real HTTP receiver once for the whole run and tells the tests where it listens.
import type { TestProject } from "vitest/node";
import "../receiver-types";
import { startReceiver } from "./receiver";

export default async function setup(project: TestProject) {
  const receiver = await startReceiver();
  project.provide("receiverUrl", receiver.url);
  return receiver.close;
}
