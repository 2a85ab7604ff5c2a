import { Router } from 'express';
import type { z } from 'zod';
import { restHandler } from '../rest/rest-handler.ts';
import type { metaSchema, Parameters } from './schemas.ts';

const MB = 1024 * 1024;

/**
 * `GET /v1/parameters` and `GET /v1/meta`: what a Dify client reads about the app before it
 * chats. Minimal but valid: no input form, no opening statement, features off, file sizes as
 * configured. Behind the API key like every route.
 */
export function appInfoRoutes(options: { maxFileBytes: number }): Router {
  const r = Router();
  const sizeMb = Math.max(1, Math.floor(options.maxFileBytes / MB));
  const parameters: Parameters = {
    opening_statement: '',
    suggested_questions: [],
    suggested_questions_after_answer: { enabled: false },
    speech_to_text: { enabled: false },
    text_to_speech: { enabled: false },
    retriever_resource: { enabled: true },
    annotation_reply: { enabled: false },
    more_like_this: { enabled: false },
    sensitive_word_avoidance: { enabled: false },
    user_input_form: [],
    file_upload: { image: { enabled: false, number_limits: 0, transfer_methods: ['local_file'] } },
    system_parameters: { file_size_limit: sizeMb, image_file_size_limit: sizeMb, audio_file_size_limit: sizeMb, video_file_size_limit: sizeMb },
  };
  r.get(
    '/v1/parameters',
    restHandler('parameters failed', async (_req, res) => {
      res.json(parameters);
    }),
  );
  r.get(
    '/v1/meta',
    restHandler('meta failed', async (_req, res) => {
      res.json({ tool_icons: {} } satisfies z.infer<typeof metaSchema>);
    }),
  );
  return r;
}
