// The official `openai` npm package against the gateway: create, edits and extensions (of an id and of
// an upload), characters, remix, delete, models, and the errors. Run by tests/e2e/test_openai_npm.py with
// NODE_PATH at the package scripts/setup installed; prints one JSON object for the Python side to check.
// Env: OPENAI_BASE_URL (the gateway's /v1), OPENAI_API_KEY (a virtual key), VIDEO_MODEL.
'use strict';

const OpenAI = require('openai');
const { toFile } = require('openai');

const client = new OpenAI({ maxRetries: 0 });
const model = process.env.VIDEO_MODEL;

async function finished(video) {
  let current = video;
  while (current.status === 'queued' || current.status === 'in_progress') {
    await new Promise((resolve) => setTimeout(resolve, 100));
    current = await client.videos.retrieve(current.id);
  }
  return current;
}

async function mp4Of(videoId) {
  const reply = await client.videos.downloadContent(videoId);
  return Buffer.from(await reply.arrayBuffer());
}

function summary(video) {
  const { id, object, status, model: served, seconds, size, remixed_from_video_id: remixedFrom } = video;
  return { id, object, status, model: served, seconds, size, remixedFrom };
}

async function failure(call) {
  try {
    await call();
  } catch (err) {
    return { name: err.constructor.name, status: err.status, param: err.param ?? null, code: err.code ?? null };
  }
  return null;
}

async function main() {
  const source = await finished(
    await client.videos.create({ model, prompt: 'a fox in the snow', seconds: '4', size: '720x1280' }),
  );
  const sourceMp4 = await mp4Of(source.id);
  const upload = () => toFile(sourceMp4, 'fox.mp4', { type: 'video/mp4' });

  const editedById = await finished(await client.videos.edit({ prompt: 'make the fox red', video: { id: source.id } }));
  const editedUpload = await finished(await client.videos.edit({ prompt: 'at night', video: await upload() }));
  const extendedById = await finished(
    await client.videos.extend({ prompt: 'the fox runs off', seconds: '4', video: { id: source.id } }),
  );
  const extendedUpload = await finished(
    await client.videos.extend({ prompt: 'it starts to snow', seconds: '8', video: await upload() }),
  );
  const character = await client.videos.createCharacter({ name: 'Fox', video: await upload() });
  const characterAgain = await client.videos.getCharacter(character.id);
  const remixed = await finished(await client.videos.remix(source.id, { prompt: 'in autumn' }));
  const deleted = await client.videos.delete(remixed.id);
  const retrievedModel = await client.models.retrieve(model);
  const listedModels = [];
  for await (const listed of client.models.list()) listedModels.push(listed.id);

  const errors = {
    editUnknownId: await failure(() => client.videos.edit({ prompt: 'x', video: { id: 'video_' + '0'.repeat(32) } })),
    editNotAVideo: await failure(async () =>
      client.videos.edit({ prompt: 'x', video: await toFile(Buffer.from('not an mp4'), 'a.mp4') }),
    ),
    extendBadSeconds: await failure(() => client.videos.extend({ prompt: 'x', seconds: '9', video: { id: source.id } })),
    unknownCharacter: await failure(() => client.videos.getCharacter('character_' + '0'.repeat(32))),
    retrieveDeleted: await failure(() => client.videos.retrieve(remixed.id)),
    unknownModel: await failure(() => client.models.retrieve('no-such-model')),
  };

  const mp4s = {};
  for (const [name, video] of Object.entries({ editedById, editedUpload, extendedById, extendedUpload })) {
    const bytes = await mp4Of(video.id);
    mp4s[name] = { bytes: bytes.length, ftyp: bytes.subarray(4, 8).toString('latin1') };
  }

  const result = {
    source: summary(source),
    editedById: summary(editedById),
    editedUpload: summary(editedUpload),
    extendedById: summary(extendedById),
    extendedUpload: summary(extendedUpload),
    character,
    characterAgain,
    remixed: summary(remixed),
    deleted,
    model: { id: retrievedModel.id, object: retrievedModel.object, ownedBy: retrievedModel.owned_by },
    listedModels,
    errors,
    mp4s,
  };
  process.stdout.write(JSON.stringify(result));
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
